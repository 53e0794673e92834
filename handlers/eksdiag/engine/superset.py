"""Rewrite an RE2 pattern as a byte-level expression that finds every line the pattern matches.

The indexer confirms every candidate line with RE2 itself (UTF-8 mode, as the rules are written), so
the block-level prefilter only has to over-approximate: whenever the RE2 pattern matches somewhere
inside one line, the rewritten expression must match inside that line too. It may match more.

The output is plain byte-level syntax that both Hyperscan (no UTF-8 or UCP flags) and RE2 in Latin-1
mode read the same way, and it never matches a newline, so a match always ends inside the line it
belongs to. The differences this bridges, all checked against google-re2:

* RE2 works on UTF-8 characters, the prefilter on bytes: ``.``, negated classes and ``\\S``/``\\W``/
  ``\\D`` may match one multi-byte character, so they become ``(?:ASCII part|[\\xc0-\\xff][\\x80-\\xbf]{1,3})``;
  a non-ASCII literal becomes its UTF-8 bytes; ``\\xE9`` is the code point U+00E9, not the byte.
* ``\\s`` is ``[\\t\\n\\f\\r ]`` in RE2 (no vertical tab), so ``\\S`` matches ``\\v`` there; written
  out as explicit sets, the engines' own ``\\s`` never matters.
* ``(?i)`` folds ``k`` with U+212A KELVIN SIGN and ``s`` with U+017F LATIN SMALL LETTER LONG S: the
  rewrite folds them as ASCII does and says so (``Rewrite.folds``); the caller adds
  :data:`FOLD_SENTINEL`, which makes any line holding one of the two a candidate.
* ``^``, ``$``, ``\\A`` and ``\\z`` mean the line's start and end: the engines run in multi-line mode.
* Lazy quantifiers and capture groups do not change whether a line matches.

Unicode general categories (``\\pN``, ``\\p{Lu}``) keep their ASCII members and admit any multi-byte
character. Anything else (scripts such as ``\\p{Greek}``, ``\\C``, octal escapes, non-ASCII characters
in classes or under ``(?i)``) raises :class:`Unsupported`, and the caller searches that pattern with
RE2 directly.

``rewrite(pattern, ascii_text=True)`` gives the form for text known to hold ASCII bytes only (most
blocks of node logs): no multi-byte alternatives, no bounds times four, no fold sentinel. It matches
an ASCII line exactly when the pattern does (unless ``(?-i)`` is involved) and costs Hyperscan much
less: ``[a-z\\pN]{23,25}`` stays a repetition of 23 to 25 bytes instead of 23 to 100.
"""

from __future__ import annotations

import string
import unicodedata
from dataclasses import dataclass

#: One UTF-8 encoded character of two to four bytes (lead byte, continuation bytes), as bytes.
MULTIBYTE = r"[\xc0-\xff][\x80-\xbf]{1,3}"
NEWLINE = 0x0A
MAX_REPEAT = 1000  # RE2's limit on a counted repetition
ASCII = frozenset(range(128))
DIGIT = frozenset(map(ord, string.digits))
SPACE = frozenset(map(ord, "\t\n\f\r "))  # RE2's \s: no vertical tab
WORD = frozenset(map(ord, string.ascii_letters + string.digits + "_"))
POSIX = {
    "alnum": frozenset(map(ord, string.ascii_letters + string.digits)),
    "alpha": frozenset(map(ord, string.ascii_letters)),
    "ascii": ASCII,
    "blank": frozenset(map(ord, "\t ")),
    "cntrl": frozenset([*range(32), 127]),
    "digit": DIGIT,
    "graph": frozenset(range(33, 127)),
    "lower": frozenset(map(ord, string.ascii_lowercase)),
    "print": frozenset(range(32, 127)),
    "punct": frozenset(map(ord, string.punctuation)),
    "space": frozenset(map(ord, "\t\n\v\f\r ")),
    "upper": frozenset(map(ord, string.ascii_uppercase)),
    "word": WORD,
    "xdigit": frozenset(map(ord, string.hexdigits)),
}
#: ASCII letters whose RE2 case folding also reaches a non-ASCII character (checked over all of Unicode).
FOLDS_BEYOND_ASCII = frozenset(map(ord, "kKsS"))
#: Matches U+212A KELVIN SIGN or U+017F LATIN SMALL LETTER LONG S (UTF-8): a line holding one is a
#: candidate for every pattern that folds k or s.
FOLD_SENTINEL = r"\xe2\x84\xaa|\xc5\xbf"
#: Unicode general categories and their one-letter groups, as RE2 accepts them after \p.
UNICODE_CATEGORIES = frozenset(
    "C Cc Cf Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs".split()  # noqa: SIM905
)
SIMPLE_ESCAPES = {"a": 7, "f": 12, "t": 9, "n": 10, "r": 13, "v": 11}
PERL_CLASSES = {"d": (DIGIT, False), "s": (SPACE, False), "w": (WORD, False)}


class Unsupported(ValueError):
    """The pattern uses syntax this rewriter does not translate; search it with RE2 instead."""


@dataclass(frozen=True)
class CharSet:
    """What one character position may hold: some ASCII bytes, and perhaps any non-ASCII character."""

    ascii: frozenset[int]
    non_ascii: bool
    folds: bool = False
    """case-folded k or s: RE2 also matches U+212A KELVIN SIGN or U+017F LONG S there (see FOLD_SENTINEL)"""

    def folded(self, caseless: bool) -> CharSet:
        if not caseless:
            return self
        letters = {c for c in self.ascii if chr(c).isalpha()}
        swapped = {ord(chr(c).swapcase()) for c in letters}
        return CharSet(self.ascii | swapped, self.non_ascii, self.folds or bool(self.ascii & FOLDS_BEYOND_ASCII))

    def negated(self) -> CharSet:
        return CharSet(ASCII - self.ascii, True)

    def ascii_only(self) -> CharSet:
        """The same position in text of ASCII bytes only."""
        return CharSet(self.ascii, False) if self.non_ascii or self.folds else self

    def repeated(self, quant: str) -> tuple[str, str]:
        """``(expression, quantifier)`` for this set repeated: a multi-byte character is up to four bytes
        of 0x80-0xFF, so the repetition of bytes ``ASCII part + [0x80-0xFF]`` covers it with bounds times four."""
        if not self.non_ascii:
            return self.emit() or _NEVER, quant
        wide = _class((self.ascii - {NEWLINE}) | set(range(0x80, 0x100)))
        if quant in ("*", "+"):
            return wide, quant
        if quant == "?":
            return wide, "{0,4}"
        low, comma, high = quant[1:-1].partition(",")
        if not comma:
            high = low
        # RE2 refuses counts above 1000: past that the upper bound is dropped (still a superset)
        top = str(4 * int(high)) if high and 4 * int(high) <= MAX_REPEAT else ""
        return wide, "{" + low + "," + top + "}"

    def emit(self) -> str | None:
        """The expression for one character, or None when no character of a line can match."""
        ascii_part = self.ascii - {NEWLINE}
        parts = [_class(ascii_part)] if ascii_part else []
        if self.non_ascii:
            parts.append(MULTIBYTE)
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"


def _byte(c: int) -> str:
    return chr(c) if chr(c) in string.ascii_letters + string.digits else f"\\x{c:02x}"


def _class(codes: frozenset[int] | set[int]) -> str:
    ordered = sorted(codes)
    if len(ordered) == 1:
        return _byte(ordered[0])
    ranges: list[str] = []
    start = prev = ordered[0]
    for c in [*ordered[1:], -1]:
        if c == prev + 1:
            prev = c
            continue
        ranges.append(_byte(start) if start == prev else f"{_byte(start)}-{_byte(prev)}")
        start = prev = c
    return "[" + "".join(ranges) + "]"


_NEVER = "\x00never"  # marks a sub-expression no line can match (a newline, an empty class)


def _text(atom: str | CharSet) -> str:
    return atom.emit() or _NEVER if isinstance(atom, CharSet) else atom


class _Parser:
    """Recursive descent over RE2 syntax, emitting the byte-level superset as it goes."""

    def __init__(self, pattern: str, ascii_text: bool = False) -> None:
        self.p = pattern
        self.i = 0
        self.ascii_text = ascii_text  # the text holds ASCII bytes only: no multi-byte character to cover
        self.exact = True  # no approximation so far: a line matches the output iff RE2 matches it
        self.ascii_exact = True  # the same, for lines of ASCII bytes only
        self.folds = False  # a case-folded k or s: lines holding KELVIN SIGN or LONG S need the sentinel

    # -- helpers
    def peek(self, ahead: int = 0) -> str:
        j = self.i + ahead
        return self.p[j] if j < len(self.p) else ""

    def take(self) -> str:
        if self.i >= len(self.p):
            raise Unsupported("unexpected end of pattern")
        c = self.p[self.i]
        self.i += 1
        return c

    def expect(self, c: str) -> None:
        if self.take() != c:
            raise Unsupported(f"expected {c!r} at {self.i}")

    # -- grammar
    def parse(self) -> str:
        out = self.alternation(caseless=False)
        if self.i != len(self.p):
            raise Unsupported(f"unbalanced ')' at {self.i}")
        return out

    def alternation(self, caseless: bool) -> str:
        branches = []
        flags = [caseless]  # shared by the branches: a (?i) inside one holds to the end of the group
        while True:
            branches.append(self.concat(flags))
            if self.peek() != "|":
                break
            self.i += 1
        live = [b for b in branches if _NEVER not in b]
        if not live:
            return _NEVER
        return live[0] if len(live) == 1 else "(?:" + "|".join(live) + ")"

    def concat(self, flags: list[bool]) -> str:
        items: list[str] = []
        while self.i < len(self.p) and self.peek() not in "|)":
            atom = self.atom(flags)
            if atom is None:  # a flag group such as (?i): changes what follows, matches nothing itself
                continue
            items.append(self.quantified(atom))
        return "".join(items)

    def quantified(self, atom: str | CharSet) -> str:
        if isinstance(atom, CharSet) and self.ascii_text:
            atom = atom.ascii_only()
        if isinstance(atom, CharSet) and atom.non_ascii:
            self.exact = False  # a multi-byte character stands for "some bytes 0x80-0xFF"
        if isinstance(atom, CharSet) and atom.folds:
            self.folds, self.exact = True, False
        while True:
            c = self.peek()
            if c in ("*", "+", "?"):
                self.i += 1
                quant = c
            elif c == "{" and (rep := self.counted()) is not None:
                quant = rep
            else:
                return atom.emit() or _NEVER if isinstance(atom, CharSet) else atom
            if self.peek() == "?":  # lazy: the same lines match
                self.i += 1
            if isinstance(atom, CharSet):
                if atom.non_ascii and quant not in ("*", "+"):
                    self.ascii_exact = False  # bounds times four admit more ASCII characters too
                atom, quant = atom.repeated(quant)
            if atom == _NEVER:
                if quant in ("*", "?") or (quant[0] == "{" and int(quant[1:-1].partition(",")[0]) == 0):
                    atom = ""  # zero repetitions of the impossible: matches the empty string
                continue
            atom = f"(?:{atom}){quant}" if atom else ""

    def counted(self) -> str | None:
        """``{n}``, ``{n,}`` or ``{n,m}`` at the cursor (consumed), or None when ``{`` is a literal."""
        j = self.p.find("}", self.i)
        if j < 0:
            return None
        body = self.p[self.i + 1 : j]
        low, comma, high = body.partition(",")
        if not low.isdigit() or (high and not high.isdigit()):
            return None
        self.i = j + 1
        return "{" + body + "}" if comma else "{" + low + "}"

    def atom(self, flags: list[bool]) -> str | CharSet | None:
        c = self.take()
        caseless = flags[0]
        if c == "(":
            return self.group(flags)
        if c == "[":
            return self.charset(caseless)
        if c == ".":  # with or without (?s): a line holds no newline
            return CharSet(ASCII - {NEWLINE}, True)
        if c == "^":
            return "^"
        if c == "$":
            return "$"
        if c == "\\":
            return self.escape(caseless)
        if c in "*+?":
            raise Unsupported(f"repetition without an operand at {self.i - 1}")
        return self.literal(ord(c), caseless)

    def literal(self, code: int, caseless: bool) -> str | CharSet:
        if code < 128:
            return CharSet(frozenset([code]), False).folded(caseless)
        char = chr(code)
        if caseless and char.lower() != char.upper():
            raise Unsupported("a non-ASCII letter under (?i)")
        if self.ascii_text:
            return _NEVER  # not in text of ASCII bytes
        encoded = char.encode("utf-8")
        return "(?:" + "".join(f"\\x{b:02x}" for b in encoded) + ")"

    def group(self, flags: list[bool]) -> str | None:
        inner = list(flags)
        if self.peek() == "?":
            self.i += 1
            c = self.peek()
            if c == "P" or (c == "<" and self.peek(1) not in "=!"):
                end = self.p.find(">", self.i)
                if end < 0:
                    raise Unsupported("unterminated group name")
                self.i = end + 1
            elif c == ":":
                self.i += 1
            else:
                on = True
                while True:
                    c = self.take()
                    if c == "-":
                        on = False
                    elif c == "i":
                        if inner[0] and not on:
                            self.exact = self.ascii_exact = False  # (?-i) is not trusted to narrow
                        inner[0] = inner[0] or on
                    elif c in "msU":
                        pass  # multi-line, dot-all and ungreedy do not change which lines match
                    elif c == ")":
                        flags[:] = inner  # (?i) applies to the rest of the enclosing group
                        return None
                    elif c == ":":
                        break
                    else:
                        raise Unsupported(f"group flag {c!r}")
        body = self.alternation(inner[0])
        self.expect(")")
        return body if body == _NEVER else f"(?:{body})"

    def escape(self, caseless: bool) -> str | CharSet:
        c = self.take()
        if c in PERL_CLASSES or c.lower() in PERL_CLASSES:
            return self.perl_class(c).folded(caseless)
        if c in "pP":
            return self.unicode_class(c == "P").folded(caseless)
        if c == "b":
            return "\\b"
        if c == "B":
            return "\\B"
        if c == "A":
            return "^"
        if c == "z":
            return "$"
        if c == "Q":
            end = self.p.find("\\E", self.i)
            text = self.p[self.i : end if end >= 0 else len(self.p)]
            self.i = end + 2 if end >= 0 else len(self.p)
            atoms = [self.literal(ord(ch), caseless) for ch in text]
            if self.ascii_text:
                atoms = [a.ascii_only() if isinstance(a, CharSet) else a for a in atoms]
            if any(isinstance(a, CharSet) and a.non_ascii for a in atoms):
                self.exact = False
            if any(isinstance(a, CharSet) and a.folds for a in atoms):
                self.folds, self.exact = True, False
            items = [_text(a) for a in atoms]
            return _NEVER if _NEVER in items else ("(?:" + "".join(items) + ")" if items else "")
        code = self.escaped_code(c)
        return self.literal(code, caseless)

    def unicode_class(self, negated: bool) -> CharSet:
        """``\\pN``, ``\\p{Lu}``, ``\\PL``: a Unicode general category. Its ASCII members are exact; any
        non-ASCII character may belong to it (not decided here: RE2 confirms)."""
        if self.peek() == "{":
            end = self.p.find("}", self.i)
            name = self.p[self.i + 1 : end] if end > 0 else ""
            self.i = end + 1
        else:
            name = self.take()
        if name.startswith("^"):
            name, negated = name[1:], not negated
        if name == "Any":
            members = ASCII
        elif name in UNICODE_CATEGORIES:
            members = frozenset(c for c in range(128) if unicodedata.category(chr(c)).startswith(name))
        else:
            raise Unsupported(f"Unicode class {name!r}")  # scripts (\p{Greek}): not rewritten
        result = CharSet(members, True)
        return CharSet(ASCII - members, True) if negated else result

    def perl_class(self, c: str) -> CharSet:
        members, _ = PERL_CLASSES[c.lower()]
        base = CharSet(members, False)
        return base.negated() if c.isupper() else base

    def escaped_code(self, c: str) -> int:
        if c in SIMPLE_ESCAPES:
            return SIMPLE_ESCAPES[c]
        if c == "x":
            if self.peek() == "{":
                end = self.p.find("}", self.i)
                digits = self.p[self.i + 1 : end]
                self.i = end + 1
            else:
                digits = self.p[self.i : self.i + 2]
                self.i += 2
            try:
                return int(digits, 16)
            except ValueError:
                raise Unsupported(f"bad hex escape {digits!r}") from None
        if c.isalnum():
            raise Unsupported(f"escape \\{c}")
        return ord(c)

    def charset(self, caseless: bool) -> CharSet:
        negate = self.peek() == "^"
        if negate:
            self.i += 1
        members: set[int] = set()
        non_ascii = False
        first = True
        while True:
            c = self.take()
            if c == "]" and not first:
                break
            first = False
            if c == "[" and self.peek() == ":":
                end = self.p.find(":]", self.i)
                name = self.p[self.i + 1 : end] if end >= 0 else ""
                negated_posix = name.startswith("^")
                posix = POSIX.get(name.lstrip("^"))
                if posix is None:
                    raise Unsupported(f"POSIX class {name!r}")
                self.i = end + 2
                if negated_posix:
                    members |= ASCII - posix
                    non_ascii = True
                else:
                    members |= posix
                continue
            if c == "\\":
                e = self.take()
                if e in PERL_CLASSES or e.lower() in PERL_CLASSES or e in "pP":
                    part = self.perl_class(e) if e not in "pP" else self.unicode_class(e == "P")
                    members |= part.ascii
                    non_ascii = non_ascii or part.non_ascii
                    continue
                low = self.escaped_code(e)
            else:
                low = ord(c)
            high = low
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                self.i += 1
                h = self.take()
                high = self.escaped_code(self.take()) if h == "\\" else ord(h)
            if high >= 128 or low >= 128:
                raise Unsupported("a non-ASCII character in a class")
            members.update(range(low, high + 1))
        result = CharSet(frozenset(members), non_ascii).folded(caseless)
        return result.negated() if negate else result


@dataclass(frozen=True)
class Rewrite:
    """The byte-level expression of a pattern (None: no line can match it), and whether it is exact:
    then it matches inside a line exactly when RE2 matches that line, and needs no confirmation."""

    form: str | None
    exact: bool
    ascii_exact: bool
    """Exact on lines of ASCII bytes (most log lines), where multi-byte alternatives cannot match."""
    folds: bool = False
    """The form folds k or s as ASCII does; a line holding U+212A or U+017F is a candidate through
    :data:`FOLD_SENTINEL` instead (an alternative at every k and s would cost Hyperscan its literals)."""


def rewrite(pattern: str, ascii_text: bool = False) -> Rewrite:
    """Rewrite ``pattern``; raises :class:`Unsupported` for syntax this module does not translate.

    With ``ascii_text``, the form is for text of ASCII bytes only (``exact`` then means: on such text).
    """
    parser = _Parser(pattern, ascii_text)
    out = parser.parse()
    if _NEVER in out:
        return Rewrite(None, True, True)
    if ascii_text:
        return Rewrite(out, parser.ascii_exact, parser.ascii_exact)
    return Rewrite(out, parser.exact, parser.exact or parser.ascii_exact, parser.folds)


def byte_superset(pattern: str) -> str | None:
    """The byte-level expression for ``pattern``, or None when the pattern can never match inside a line.

    Raises :class:`Unsupported` for syntax it does not translate.
    """
    return rewrite(pattern).form
