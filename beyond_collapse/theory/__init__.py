"""Closed forms and sympy derivations of the paper's theory (Sec. 3, App. D, App. E). Pure functions, no sampling."""
