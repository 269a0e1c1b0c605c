"""`derive check`: mark claims about one network's backpropagation, with the mistake named.

    from derive import example
    from derive.check import check
    verdicts = check(example("classic"), ["delta_o1 = (out_o1 - t_o1) * out_o1 * (1 - out_o1)"])
"""
from .judge import Diagnosis, Judge, Verdict, check
from .parse import Claim, Part, parse_claim
from .report import ClaimsFileError, Report, claims_from_data, claims_from_text, load_claims, mark
from .vocabulary import ClaimError, Vocabulary

__all__ = ["check", "mark", "load_claims", "claims_from_data", "Judge", "Verdict", "Diagnosis", "Report",
           "Claim", "Part", "parse_claim", "ClaimError", "ClaimsFileError", "Vocabulary",
           "claims_from_text"]
