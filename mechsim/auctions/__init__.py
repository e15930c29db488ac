"""Auctions and other quasi-linear direct mechanisms over finite type spaces (classic mechanism design)."""

from mechsim.auctions.auction import (
    AuctionMechanism,
    FiniteAuction,
    ironed_virtual_values,
    myerson_revenue,
    optimal_reserve,
    posted_price_revenue,
    second_price_mechanism,
    second_price_revenue,
    virtual_values,
)
from mechsim.auctions.direct import (
    INCENTIVES,
    PARTICIPATION,
    DirectAudit,
    DirectMechanism,
    QuasiLinearModel,
    UtilityOperators,
    audit_direct,
    evaluate_direct,
    utility_operators,
)
from mechsim.auctions.repeated import (
    BID_SPACES,
    FORMATS,
    AuctionOutcome,
    RepeatedAuction,
    all_pay_bne_bid,
    auction_outcomes,
    equilibrium_bid,
    first_price_bne_bid,
    second_price_bid,
)

__all__ = [
    "QuasiLinearModel", "DirectMechanism", "DirectAudit", "UtilityOperators", "audit_direct", "evaluate_direct",
    "utility_operators", "INCENTIVES", "PARTICIPATION",
    "FiniteAuction", "AuctionMechanism", "ironed_virtual_values", "virtual_values", "myerson_revenue",
    "posted_price_revenue", "second_price_mechanism", "second_price_revenue", "optimal_reserve",
    "AuctionOutcome", "RepeatedAuction", "auction_outcomes", "first_price_bne_bid", "all_pay_bne_bid",
    "second_price_bid", "equilibrium_bid", "FORMATS", "BID_SPACES",
]
