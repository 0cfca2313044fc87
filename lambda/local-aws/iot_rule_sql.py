"""The subset of AWS IoT SQL the local rules engine runs: parsing, evaluation and MQTT topic matching.

Pure functions, no moto: rules are compiled once at CreateTopicRule / ReplaceTopicRule, and anything
outside the subset is refused there with UnsupportedSql, naming what is unsupported, instead of
being silently ignored when a message arrives.

The subset (SQL versions 2015-10-08, 2016-03-23 and beta are treated alike for it):
  SELECT  `*`, field references (`a`, `a.b`), string / number / true / false literals, the
          functions topic(), topic(n), clientid(), timestamp(), isUndefined(expr), and a simple
          `CASE expr WHEN value THEN expr ... [ELSE expr] END`; each item but `*` and a field
          reference needs `AS name`.
  FROM    one quoted MQTT topic filter, with `+` and `#` wildcards.
  WHERE   comparisons = <> != < > <= >= between those expressions, AND, OR, NOT, parentheses.
Substitution templates `${expr}` in action fields take the same expressions; `get_secret(...)`
is allowed only where AWS allows it, in HTTP header values.

Semantics, as AWS documents them (https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-reference.html):
- A field the payload lacks is Undefined; an Undefined SELECT item is left out of the result, and
  a comparison with Undefined is not true, so the WHERE clause fails.
- `SELECT *, x AS k`: the result is the payload's fields, then each further item in order. When an
  item's name is already taken (the payload has `k`), the later item replaces it, as building one
  JSON object left to right does. AWS's documentation shows no example of such a clash; to keep a
  device's own field whatever the engine does, write
  `CASE isUndefined(k) WHEN true THEN topic(3) ELSE k END AS k`, which gives the same result either way.
- Substitution templates see the incoming payload, not the SELECT result (AWS: "you can't reference
  an alias created using the AS clause").
- clientid() is "n/a" for messages that did not arrive over MQTT, such as iot-data Publish.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Union

SQL_VERSIONS = ("2015-10-08", "2016-03-23", "beta")
SUPPORTED_FUNCTIONS = "topic(), topic(n), clientid(), timestamp(), isUndefined(expr)"


class UnsupportedSql(ValueError):
    """The SQL or template uses something outside the emulator's subset, or is malformed."""


class _Undefined:
    def __repr__(self) -> str:
        return "Undefined"


UNDEFINED: Any = _Undefined()


# ---- expressions -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Field:
    path: tuple[str, ...]


@dataclass(frozen=True)
class Call:
    name: str  # lower-case
    args: tuple["Expr", ...]


@dataclass(frozen=True)
class Compare:
    op: str
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True)
class Logic:
    op: str  # "and" | "or"
    items: tuple["Expr", ...]


@dataclass(frozen=True)
class Not:
    item: "Expr"


@dataclass(frozen=True)
class Case:
    subject: "Expr"
    whens: tuple[tuple["Expr", "Expr"], ...]
    otherwise: "Expr | None"


Expr = Union[Literal, Field, Call, Compare, Logic, Not, Case]


@dataclass(frozen=True)
class MessageContext:
    """What the functions read: the message as the rules engine received it."""

    topic: str
    payload: Any  # parsed JSON, or UNDEFINED when the payload is not JSON
    client_id: str
    timestamp_ms: int


@dataclass(frozen=True)
class SelectItem:
    expr: Expr | None  # None for `*`
    name: str | None


@dataclass(frozen=True)
class RuleSql:
    topic_filter: str
    items: tuple[SelectItem, ...]
    where: Expr | None

    @property
    def star_only(self) -> bool:
        return len(self.items) == 1 and self.items[0].expr is None


# ---- tokens ------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^']|'')*')
    | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
    | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op><>|!=|<=|>=|=|<|>|\(|\)|,|\.|\*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"select", "from", "where", "as", "and", "or", "not", "case", "when", "then", "else", "end", "true", "false"}
# Words that start AWS SQL features outside the subset, named in the refusal.
_UNSUPPORTED_OPERATORS = {"in": "IN", "like": "LIKE", "is": "IS", "between": "BETWEEN"}


@dataclass
class _Token:
    kind: str  # string | number | ident | keyword | op | end
    text: str
    value: Any = None


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if not match:
            rest = text[position:].strip()
            raise UnsupportedSql(
                f"{rest[0]!r} (at {rest[:20]!r}) is not supported: arithmetic, arrays, double-quoted names and other operators are outside the emulator's SQL subset"
            )
        position = match.end()
        if match.group("string") is not None:
            raw = match.group("string")
            tokens.append(_Token("string", raw, raw[1:-1].replace("''", "'")))
        elif match.group("number") is not None:
            raw = match.group("number")
            number: float | int = float(raw) if any(c in raw for c in ".eE") else int(raw)
            tokens.append(_Token("number", raw, number))
        elif match.group("ident") is not None:
            raw = match.group("ident")
            lower = raw.lower()
            tokens.append(_Token("keyword" if lower in _KEYWORDS else "ident", raw, lower))
        else:
            tokens.append(_Token("op", match.group("op")))
    tokens.append(_Token("end", ""))
    return tokens


class _Parser:
    def __init__(self, tokens: list[_Token], allow_get_secret: bool = False) -> None:
        self.tokens = tokens
        self.index = 0
        self.allow_get_secret = allow_get_secret

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at_keyword(self, *words: str) -> bool:
        token = self.peek()
        return token.kind == "keyword" and token.value in words

    def at_op(self, *ops: str) -> bool:
        token = self.peek()
        return token.kind == "op" and token.text in ops

    def expect_keyword(self, word: str) -> None:
        if not self.at_keyword(word):
            raise UnsupportedSql(f"expected {word.upper()} but found {self.describe(self.peek())}")
        self.take()

    def expect_op(self, op: str) -> None:
        if not self.at_op(op):
            raise UnsupportedSql(f"expected {op!r} but found {self.describe(self.peek())}")
        self.take()

    @staticmethod
    def describe(token: _Token) -> str:
        return "the end of the statement" if token.kind == "end" else repr(token.text)

    # expr := or
    def expression(self) -> Expr:
        return self.disjunction()

    def disjunction(self) -> Expr:
        items = [self.conjunction()]
        while self.at_keyword("or"):
            self.take()
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else Logic("or", tuple(items))

    def conjunction(self) -> Expr:
        items = [self.negation()]
        while self.at_keyword("and"):
            self.take()
            items.append(self.negation())
        return items[0] if len(items) == 1 else Logic("and", tuple(items))

    def negation(self) -> Expr:
        if self.at_keyword("not"):
            self.take()
            return Not(self.negation())
        return self.comparison()

    def comparison(self) -> Expr:
        left = self.primary()
        token = self.peek()
        if token.kind == "ident" and token.value in _UNSUPPORTED_OPERATORS:
            raise UnsupportedSql(f"the {_UNSUPPORTED_OPERATORS[token.value]} operator is not supported")
        if self.at_op("*"):
            raise UnsupportedSql("arithmetic (+ - * / %) is not supported")
        if self.at_op("=", "<>", "!=", "<", ">", "<=", ">="):
            op = self.take().text
            right = self.primary()
            return Compare("<>" if op == "!=" else op, left, right)
        return left

    def primary(self) -> Expr:
        token = self.peek()
        if token.kind == "op" and token.text == "(":
            self.take()
            inner = self.expression()
            self.expect_op(")")
            return inner
        if token.kind == "string" or token.kind == "number":
            self.take()
            return Literal(token.value)
        if token.kind == "keyword" and token.value in ("true", "false"):
            self.take()
            return Literal(token.value == "true")
        if token.kind == "keyword" and token.value == "case":
            return self.case()
        if token.kind == "ident":
            if token.value == "null":
                raise UnsupportedSql("NULL is not supported; test for a missing field with isUndefined(field)")
            self.take()
            if self.at_op("("):
                return self.call(token)
            path = [token.text]
            while self.at_op("."):
                self.take()
                part = self.take()
                if part.kind == "op" and part.text == "*":
                    raise UnsupportedSql(f"nested wildcards ({'.'.join(path)}.*) are not supported")
                if part.kind not in ("ident", "keyword"):
                    raise UnsupportedSql(f"expected a field name after {'.'.join(path)}. but found {self.describe(part)}")
                path.append(part.text)
            return Field(tuple(path))
        if token.kind == "op" and token.text == "*":
            raise UnsupportedSql("`*` is allowed only as a SELECT item of its own")
        raise UnsupportedSql(f"expected a field, literal or function but found {self.describe(token)}")

    def call(self, name_token: _Token) -> Expr:
        name = name_token.value
        self.expect_op("(")
        args: list[Expr] = []
        if not self.at_op(")"):
            args.append(self.expression())
            while self.at_op(","):
                self.take()
                args.append(self.expression())
        self.expect_op(")")
        if name == "topic":
            if len(args) > 1 or (args and not (isinstance(args[0], Literal) and isinstance(args[0].value, int) and args[0].value >= 1)):
                raise UnsupportedSql("topic() takes nothing or one whole number from 1 up, such as topic(3)")
        elif name in ("clientid", "timestamp"):
            if args:
                raise UnsupportedSql(f"{name}() takes no arguments")
        elif name == "isundefined":
            if len(args) != 1:
                raise UnsupportedSql("isUndefined() takes one argument")
        elif name == "get_secret":
            if not self.allow_get_secret:
                raise UnsupportedSql("get_secret() is allowed only in HTTP action header values")
            _check_get_secret_args(args)
        else:
            raise UnsupportedSql(f"the function {name_token.text}() is not supported (supported: {SUPPORTED_FUNCTIONS})")
        return Call(name, tuple(args))

    def case(self) -> Expr:
        self.expect_keyword("case")
        if self.at_keyword("when"):
            raise UnsupportedSql("CASE without a value to test (CASE WHEN condition ...) is not supported; use CASE expr WHEN value THEN ...")
        subject = self.expression()
        whens: list[tuple[Expr, Expr]] = []
        while self.at_keyword("when"):
            self.take()
            test = self.expression()
            self.expect_keyword("then")
            whens.append((test, self.expression()))
        if not whens:
            raise UnsupportedSql("CASE needs at least one WHEN ... THEN ...")
        otherwise = None
        if self.at_keyword("else"):
            self.take()
            otherwise = self.expression()
        self.expect_keyword("end")
        return Case(subject, tuple(whens), otherwise)


def _check_get_secret_args(args: list[Expr]) -> None:
    usage = "get_secret(secretId, 'SecretString', jsonKey, roleArn) or get_secret(secretId, 'SecretString', roleArn), with string literals"
    if len(args) not in (3, 4) or not all(isinstance(a, Literal) and isinstance(a.value, str) for a in args):
        raise UnsupportedSql(f"get_secret() must be called as {usage}")
    if args[1].value != "SecretString":  # type: ignore[union-attr]
        raise UnsupportedSql(f"get_secret() with secret type {args[1].value!r} is not supported; use 'SecretString'")  # type: ignore[union-attr]


# ---- rules -------------------------------------------------------------------------------------

def parse_rule_sql(sql: str | None, version: str | None) -> RuleSql:
    """Compiles a rule's SQL, or raises UnsupportedSql naming what is wrong."""
    if version is not None and version not in SQL_VERSIONS:
        raise UnsupportedSql(f"awsIotSqlVersion {version!r} is not one of {', '.join(SQL_VERSIONS)}")
    if not sql or not sql.strip():
        raise UnsupportedSql("the SQL statement is empty")
    head, topic_filter, tail = _split_from(sql)
    parser = _Parser(_tokenize(head))
    parser.expect_keyword("select")
    if _is_select_value(parser):
        raise UnsupportedSql("SELECT VALUE is not supported; select named items or *")
    items = [_select_item(parser)]
    while parser.at_op(","):
        parser.take()
        items.append(_select_item(parser))
    if parser.peek().kind != "end":
        raise UnsupportedSql(f"unexpected {parser.describe(parser.peek())} in the SELECT list")
    if sum(1 for item in items if item.expr is None) > 1:
        raise UnsupportedSql("`*` may appear only once in the SELECT list")
    where: Expr | None = None
    if tail.strip():
        parser = _Parser(_tokenize(tail))
        parser.expect_keyword("where")
        where = parser.expression()
        if parser.peek().kind != "end":
            raise UnsupportedSql(f"unexpected {parser.describe(parser.peek())} after the WHERE condition")
    check_topic_filter(topic_filter)
    return RuleSql(topic_filter, tuple(items), where)


def _split_from(sql: str) -> tuple[str, str, str]:
    """(SELECT part, topic filter, rest). FROM is found outside string literals."""
    in_string = False
    for match in re.finditer(r"'|\bFROM\b", sql, re.IGNORECASE):
        if match.group() == "'":
            in_string = not in_string
        elif not in_string:
            rest = sql[match.end():].lstrip()
            if rest.startswith("'"):
                end = rest.find("'", 1)
                if end < 0:
                    raise UnsupportedSql("the FROM topic filter has no closing quote")
                return sql[: match.start()], rest[1:end], rest[end + 1:]
            bare = re.match(r"(\S+)", rest)
            if not bare:
                raise UnsupportedSql("FROM needs a topic filter, such as FROM 'acme/telemetry/+'")
            return sql[: match.start()], bare.group(1), rest[bare.end():]
    raise UnsupportedSql("the statement has no FROM clause; write SELECT ... FROM 'topic/filter'")


def _is_select_value(parser: _Parser) -> bool:
    # `value` may also be a payload field (`SELECT value AS v`); it is the keyword only when an
    # expression follows it directly.
    first, second = parser.tokens[parser.index], parser.tokens[parser.index + 1]
    if first.kind != "ident" or first.value != "value":
        return False
    follows_field = second.kind == "end" or (second.kind == "op" and second.text in (",", ".")) or (second.kind == "keyword" and second.value == "as")
    return not follows_field


def _select_item(parser: _Parser) -> SelectItem:
    if parser.at_op("*"):
        parser.take()
        if parser.at_keyword("as"):
            raise UnsupportedSql("`* AS name` (the whole payload under one key) is not supported")
        return SelectItem(None, None)
    expr = parser.expression()
    if parser.at_keyword("as"):
        parser.take()
        alias = parser.take()
        if alias.kind not in ("ident", "keyword", "string"):
            raise UnsupportedSql(f"expected a name after AS but found {parser.describe(alias)}")
        return SelectItem(expr, alias.value if alias.kind == "string" else alias.text)
    if isinstance(expr, Field):
        return SelectItem(expr, expr.path[-1])
    raise UnsupportedSql("every SELECT item other than `*` and a field reference needs a name: add `AS name`")


def check_topic_filter(topic_filter: str) -> None:
    if not topic_filter:
        raise UnsupportedSql("the FROM topic filter is empty")
    levels = topic_filter.split("/")
    for index, level in enumerate(levels):
        if "#" in level and (level != "#" or index != len(levels) - 1):
            raise UnsupportedSql(f"in the topic filter {topic_filter!r}, `#` must be a whole level and the last one")
        if "+" in level and level != "+":
            raise UnsupportedSql(f"in the topic filter {topic_filter!r}, `+` must be a whole level")


def topic_matches(topic_filter: str, topic: str) -> bool:
    """MQTT matching: `+` is exactly one level, a final `#` is this level and any below (also none)."""
    filter_levels = topic_filter.split("/")
    topic_levels = topic.split("/")
    # MQTT 3.1.1 §4.7.2: topics starting with `$` are not matched by a leading wildcard.
    if topic.startswith("$") and filter_levels[0] in ("+", "#"):
        return False
    for index, level in enumerate(filter_levels):
        if level == "#":
            return True
        if index >= len(topic_levels):
            return False
        if level != "+" and level != topic_levels[index]:
            return False
    return len(filter_levels) == len(topic_levels)


# ---- evaluation --------------------------------------------------------------------------------

SecretResolver = Callable[[tuple[str, ...]], str]


def evaluate(expr: Expr, context: MessageContext, resolve_secret: SecretResolver | None = None) -> Any:
    if isinstance(expr, Literal):
        return expr.value
    if isinstance(expr, Field):
        value = context.payload
        for part in expr.path:
            if not isinstance(value, dict) or part not in value:
                return UNDEFINED
            value = value[part]
        return value
    if isinstance(expr, Call):
        return _call(expr, context, resolve_secret)
    if isinstance(expr, Compare):
        return _compare(expr.op, evaluate(expr.left, context, resolve_secret), evaluate(expr.right, context, resolve_secret))
    if isinstance(expr, Logic):
        values = [evaluate(item, context, resolve_secret) for item in expr.items]
        if expr.op == "and":
            return all(v is True for v in values)
        return any(v is True for v in values)
    if isinstance(expr, Not):
        value = evaluate(expr.item, context, resolve_secret)
        return (not value) if isinstance(value, bool) else UNDEFINED
    if isinstance(expr, Case):
        subject = evaluate(expr.subject, context, resolve_secret)
        for test, result in expr.whens:
            if _compare("=", subject, evaluate(test, context, resolve_secret)) is True:
                return evaluate(result, context, resolve_secret)
        return evaluate(expr.otherwise, context, resolve_secret) if expr.otherwise is not None else UNDEFINED
    raise TypeError(f"not an expression: {expr!r}")


def _call(expr: Call, context: MessageContext, resolve_secret: SecretResolver | None) -> Any:
    if expr.name == "topic":
        if not expr.args:
            return context.topic
        levels = context.topic.split("/")
        index = expr.args[0].value  # type: ignore[union-attr]
        return levels[index - 1] if index <= len(levels) else UNDEFINED
    if expr.name == "clientid":
        return context.client_id
    if expr.name == "timestamp":
        return context.timestamp_ms
    if expr.name == "isundefined":
        return evaluate(expr.args[0], context, resolve_secret) is UNDEFINED
    if expr.name == "get_secret":
        if resolve_secret is None:
            raise UnsupportedSql("get_secret() is allowed only in HTTP action header values")
        return resolve_secret(tuple(arg.value for arg in expr.args))  # type: ignore[union-attr]
    raise TypeError(f"unknown function {expr.name}")


def _compare(op: str, left: Any, right: Any) -> Any:
    if left is UNDEFINED or right is UNDEFINED:
        return UNDEFINED
    both_numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (left, right))
    same_kind = both_numbers or type(left) is type(right)
    if op in ("=", "<>"):
        if not same_kind:
            return UNDEFINED
        return (left == right) if op == "=" else (left != right)
    if not (both_numbers or (isinstance(left, str) and isinstance(right, str))):
        return UNDEFINED
    return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op]


def where_passes(rule: RuleSql, context: MessageContext) -> bool:
    return rule.where is None or evaluate(rule.where, context) is True


class NotAnObject(ValueError):
    """SELECT * was combined with other items, but the payload is not a JSON object."""


def select(rule: RuleSql, context: MessageContext, raw_payload: bytes) -> bytes:
    """The SELECT result as the bytes an action sends. `SELECT *` alone passes the payload as it came."""
    if rule.star_only:
        return raw_payload
    result: dict[str, Any] = {}
    for item in rule.items:
        if item.expr is None:
            if not isinstance(context.payload, dict):
                raise NotAnObject("SELECT * with other items needs a JSON object payload")
            result.update(context.payload)
            continue
        value = evaluate(item.expr, context)
        if value is not UNDEFINED:
            result[item.name] = value  # type: ignore[index]
    return json.dumps(result, separators=(",", ":")).encode("utf-8")


def parse_payload(raw_payload: bytes) -> Any:
    try:
        return json.loads(raw_payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return UNDEFINED


# ---- substitution templates --------------------------------------------------------------------

@dataclass(frozen=True)
class Template:
    """A string with `${expr}` parts, such as "${topic()}/errors"."""

    parts: tuple[Union[str, Expr], ...]

    @property
    def is_static(self) -> bool:
        return all(isinstance(part, str) for part in self.parts)


def parse_template(text: str, where: str, allow_get_secret: bool = False) -> Template:
    """Compiles a substitution template; `where` names the field in error messages."""
    parts: list[Union[str, Expr]] = []
    position = 0
    while True:
        start = text.find("${", position)
        if start < 0:
            parts.append(text[position:])
            break
        parts.append(text[position:start])
        end = _template_end(text, start + 2)
        if end < 0:
            raise UnsupportedSql(f"{where}: the substitution template starting at {text[start:start + 20]!r} has no closing '}}'")
        parser = _Parser(_tokenize(text[start + 2:end]), allow_get_secret=allow_get_secret)
        try:
            expr = parser.expression()
            if parser.peek().kind != "end":
                raise UnsupportedSql(f"unexpected {parser.describe(parser.peek())}")
        except UnsupportedSql as error:
            raise UnsupportedSql(f"{where}: {error}") from None
        parts.append(expr)
        position = end + 1
    return Template(tuple(part for part in parts if part != ""))


def _template_end(text: str, position: int) -> int:
    in_string = False
    while position < len(text):
        char = text[position]
        if char == "'":
            in_string = not in_string
        elif char == "}" and not in_string:
            return position
        position += 1
    return -1


def render(template: Template, context: MessageContext, resolve_secret: SecretResolver | None = None) -> str:
    out: list[str] = []
    for part in template.parts:
        if isinstance(part, str):
            out.append(part)
            continue
        out.append(_as_text(evaluate(part, context, resolve_secret)))
    return "".join(out)


def _as_text(value: Any) -> str:
    if value is UNDEFINED or value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))
