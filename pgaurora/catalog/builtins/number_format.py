"""Numeric templates: to_char(number, text) and to_number(text, text).

Owns the template elements 9 0 . , D G S MI PL SG PR FM EEEE V TH RN with PostgreSQL's sign
slot (an extra leading ' '/'-' unless S, MI, SG or PR place the sign), '#' on overflow and
fill-mode (FM) trimming, in the C locale (D is '.', G is ','):

    to_char(-1234.5, 'FM999,990.00') -> '-1,234.50'     to_char(12345, '999') -> ' ###'
Not date/time templates (formatting).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from pgaurora.datatypes.numbers import NUMERIC_CONTEXT
from pgaurora.errors import InvalidTextRepresentation


def _ordinal(n: int) -> str:
    if 10 <= n % 100 <= 13:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


_NUM_TOKENS = ("FM", "fm", "EEEE", "eeee", "MI", "mi", "PL", "pl", "SG", "sg", "PR", "pr", "TH", "th", "RN", "rn",
               "9", "0", ".", ",", "D", "d", "G", "g", "S", "s", "V", "v", "L", "l", "B", "b")


def _num_tokens(template: str) -> list[str]:
    out = []
    i = 0
    while i < len(template):
        if template[i] == '"':
            end = template.find('"', i + 1)
            end = len(template) if end < 0 else end
            out.append("lit:" + template[i + 1:end])
            i = end + 1
            continue
        for token in _NUM_TOKENS:
            if template.startswith(token, i):
                out.append(token if token == "th" else token.upper())
                i += len(token)
                break
        else:
            out.append("lit:" + template[i])
            i += 1
    return out


def _roman(n: int) -> str:
    if not 1 <= n <= 3999:
        return "#" * 15
    pairs = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"),
             (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
    out = []
    for value, letters in pairs:
        while n >= value:
            out.append(letters)
            n -= value
    return "".join(out)


def format_number(value: Decimal, template: str) -> str:
    """to_char(numeric, text)."""
    tokens = _num_tokens(template)
    fill = "FM" in tokens
    tokens = [tk for tk in tokens if tk != "FM"]
    if "RN" in tokens:
        roman = _roman(int(value.to_integral_value(rounding=ROUND_HALF_UP)))
        return roman if fill else roman.rjust(15)
    if "EEEE" in tokens:
        post = 0
        seen_point = False
        for tk in tokens:
            if tk in (".", "D"):
                seen_point = True
            elif tk in ("9", "0") and seen_point:
                post += 1
        if value.is_zero():
            mantissa, exp = f"{0:.{post}f}", 0
        elif not value.is_finite():
            return "#" * (post + 6)
        else:
            # the exponent comes from the unrounded value, as in PostgreSQL (99.995 -> 10.00e+01)
            exp = value.adjusted()
            scaled = value.scaleb(-exp).quantize(Decimal(1).scaleb(-post), rounding=ROUND_HALF_UP)
            mantissa = format(scaled, "f")
        text = f"{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
        return text if fill or text.startswith("-") else " " + text
    if "V" in tokens:
        # V multiplies by 10^n (n digits after V) and makes those positions integer digits
        v_at = tokens.index("V")
        shift = sum(1 for tk in tokens[v_at + 1:] if tk in ("9", "0"))
        value = value.scaleb(shift, context=NUMERIC_CONTEXT)
        tokens = [tk for tk in tokens if tk != "V"]
    point = next((i for i, tk in enumerate(tokens) if tk in (".", "D")), None)
    digit_positions = [i for i, tk in enumerate(tokens) if tk in ("9", "0")]
    pre_positions = [i for i in digit_positions if point is None or i < point]
    post_positions = [i for i in digit_positions if point is not None and i > point]
    rounded = value.quantize(Decimal(1).scaleb(-len(post_positions)), rounding=ROUND_HALF_UP, context=NUMERIC_CONTEXT)
    negative = rounded < 0
    magnitude = abs(rounded)
    int_part = int(magnitude)
    int_digits = str(int_part) if int_part or not post_positions else ""
    frac_digits = (format(magnitude, "f").partition(".")[2] + "0" * len(post_positions))[:len(post_positions)]
    overflow = len(int_digits) > len(pre_positions)
    last_significant = max((k for k, pos in enumerate(post_positions)
                            if tokens[pos] == "0" or frac_digits[k] != "0"), default=-1)
    if fill and not int_digits and magnitude == 0 and pre_positions and last_significant < 0:
        int_digits = "0"
    explicit_sign = any(tk in ("S", "MI", "SG") for tk in tokens)
    first_zero = next((k for k, i in enumerate(pre_positions) if tokens[i] == "0"), len(pre_positions))
    start = 0 if overflow else min(first_zero, len(pre_positions) - len(int_digits))
    pre_index = {pos: k for k, pos in enumerate(pre_positions)}
    post_index = {pos: k for k, pos in enumerate(post_positions)}
    out: list[str] = []
    sign_char = "-" if negative else ("" if fill else " ")
    if "PR" in tokens:
        sign_char = "<" if negative else ("" if fill else " ")
    sign_placed = explicit_sign
    for i, tk in enumerate(tokens):
        if tk in ("9", "0") and i in pre_index:
            k = pre_index[i]
            if overflow:
                if not sign_placed:
                    out.append(sign_char)
                    sign_placed = True
                out.append("#")
                continue
            if k < start:
                if not fill:
                    out.append(" ")
                continue
            if not sign_placed:
                out.append(sign_char)
                sign_placed = True
            digit_index = k - (len(pre_positions) - len(int_digits))
            out.append(int_digits[digit_index] if digit_index >= 0 else "0")
        elif tk in ("9", "0"):
            k = post_index[i]
            if overflow:
                out.append("#")
            elif fill and k > last_significant:
                continue
            else:
                out.append(frac_digits[k])
        elif tk in (".", "D"):
            if not post_positions and not overflow:
                continue
            if not sign_placed:
                out.append(sign_char)
                sign_placed = True
            out.append(".")
        elif tk in (",", "G"):
            k = sum(1 for p in pre_positions if p < i)
            if overflow:
                out.append(",")
            elif k > start:
                out.append(",")
            elif not fill:
                out.append(" ")
        elif tk == "S":
            out.append("-" if negative else "+")
        elif tk == "MI":
            out.append("-" if negative else ("" if fill else " "))
        elif tk == "PL":
            out.append("+" if not negative else ("" if fill else " "))
        elif tk == "SG":
            out.append("-" if negative else "+")
        elif tk == "PR":
            out.append(">" if negative else ("" if fill else " "))
        elif tk in ("TH", "th"):
            ending = _ordinal(int_part) if not negative and not overflow else ""
            out.append(ending.upper() if tk == "TH" else ending)
        elif tk in ("L", "B"):
            continue
        elif tk.startswith("lit:"):
            out.append(tk[4:])
    text = "".join(out)
    if "S" in tokens and tokens.index("S") == 0 and not overflow:
        stripped = text[1:]
        leading = len(stripped) - len(stripped.lstrip(" "))
        text = stripped[:leading] + text[0] + stripped[leading:]
    return text



def to_number(text: str, template: str) -> Decimal:
    tokens = _num_tokens(template)
    post = 0
    seen_point = False
    for tk in tokens:
        if tk in (".", "D"):
            seen_point = True
        elif tk in ("9", "0") and seen_point:
            post += 1
    negative = "-" in text or ("PR" in tokens and "<" in text)
    cleaned = "".join(ch for ch in text if ch.isdigit() or (ch == "." and seen_point))
    if not cleaned or cleaned == ".":
        raise InvalidTextRepresentation('invalid input syntax for type numeric: " "')
    value = Decimal(cleaned)
    if negative:
        value = -value
    return value.quantize(Decimal(1).scaleb(-post), rounding=ROUND_HALF_UP, context=NUMERIC_CONTEXT)
