"""Items on the wire: botocore's JSON serializer and parser, with short paths for DynamoDB's items.

botocore turns request parameters into JSON, and JSON back into a response, by walking the service model
member by member. Every attribute value of every item is a structure of ten possible members (``S``, ``N``,
``B``, ``SS``, ``NS``, ``BS``, ``M``, ``L``, ``NULL``, ``BOOL``): parsing one looks up each of the ten in turn,
at ~1.5 us per attribute, and serializing a request rebuilds every dict and list of it before ``json.dumps``.
A page of 20 messages spends more CPU parsing than everything else its call does; a write of two messages
spends ~100 us rebuilding its parameters.

Yet the JSON of an item operation's parameters is the parameters themselves, but for binary values (base64
on the wire, bytes in Python), and the JSON of an attribute value is its parsed form but for the same binary
values. So:

* :class:`ItemSerializer` writes the body of an operation whose input has no other wire form
  (:func:`plain_input`, worked out from the service model: every item operation) as ``json.dumps`` of the
  parameters with binary values as base64 text; botocore builds the request around it (method, headers).
  Other operations are serialized by botocore itself. With botocore's parameter validation off (the store's
  default), a parameter the model does not know reaches DynamoDB, which refuses the request
  (``ValidationException``), where botocore's serializer would raise a ``KeyError``.
* :class:`ItemParsing` parses an attribute value by its one type tag; everything else (the outer response
  structure, errors, response metadata) is botocore's. A value with a tag the model does not know, several
  tags or none goes botocore's own way.

Both give exactly botocore's results (the unit tests compare both on generated items of every type, nested and
binary, and on malformed values). :func:`install` puts them on a client this library created from its own
session (sync or async), never on a client or session the user passes, which stay exactly as configured. It
replaces only botocore's plain JSON serializer (a ``Config(parameter_validation=True)`` keeps botocore's
validating one) and botocore's own parser factory, and otherwise leaves the client alone; a unit test checks
that the clients the store creates have both, so a botocore release that moves these parts fails a test
instead of slowing down unseen.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from botocore.parsers import JSONParser, ResponseParserFactory
from botocore.serialize import JSONSerializer

ATTRIBUTE_VALUE = "AttributeValue"
"""The service model's name of a typed attribute value (the value shape of ``AttributeMap``, ``Key``, ...)."""
_AS_IS = frozenset(("S", "N", "SS", "NS", "BOOL", "NULL"))
"""Tags whose value is the same in JSON and in Python (text, lists of text, booleans)."""


# ---------------------------------------------------------------------------- responses
def parse_value(value: Any, blob: Callable[[Any], bytes], fallback: Callable[[Any], Any]) -> Any:
    """One attribute value of decoded response JSON (which the caller owns) as botocore parses it: binary
    values decoded, nested ones parsed; ``fallback`` parses anything else (unknown or several tags, null)."""
    if value.__class__ is dict and len(value) == 1:
        for tag, inner in value.items():
            if tag in _AS_IS and inner is not None:
                return value
            if tag == "M" and inner.__class__ is dict:
                return {"M": {name: parse_value(member, blob, fallback) for name, member in inner.items()}}
            if tag == "L" and inner.__class__ is list:
                return {"L": [parse_value(member, blob, fallback) for member in inner]}
            if tag == "B" and inner.__class__ is str:
                return {"B": blob(inner)}
            if tag == "BS" and inner.__class__ is list:
                return {"BS": [blob(member) for member in inner]}
    return fallback(value)


class ItemParsing:
    """Mixed into a JSON response parser: attribute values (and maps of them) parsed by their tag."""

    _blob_parser: Callable[[Any], bytes]

    def _handle_structure(self, shape: Any, value: Any) -> Any:
        if shape.name == ATTRIBUTE_VALUE:
            return parse_value(value, self._blob_parser, self._generic(shape))
        return super()._handle_structure(shape, value)  # type: ignore[misc]

    def _handle_map(self, shape: Any, value: Any) -> Any:
        value_shape = shape.value
        if value_shape.name == ATTRIBUTE_VALUE and value.__class__ is dict:
            blob, fallback = self._blob_parser, self._generic(value_shape)
            return {name: parse_value(member, blob, fallback) for name, member in value.items()}
        return super()._handle_map(shape, value)  # type: ignore[misc]

    def _generic(self, shape: Any) -> Callable[[Any], Any]:
        structure = super()._handle_structure  # type: ignore[misc]

        def parse(value: Any) -> Any:
            return structure(shape, value)

        return parse


class ItemJSONParser(ItemParsing, JSONParser):  # type: ignore[misc]
    """botocore's ``json`` protocol parser (DynamoDB's) with :class:`ItemParsing`."""


class ItemParserFactory(ResponseParserFactory):  # type: ignore[misc]
    """botocore's parser factory, with :attr:`parser_class` for the ``json`` protocol."""

    parser_class: type[Any] = ItemJSONParser
    replaces: type[Any] = ResponseParserFactory
    """The factory class this one takes the place of on a client's endpoint."""

    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == "json":
            return self.parser_class(**self._defaults)
        return super().create_parser(protocol_name)


# ---------------------------------------------------------------------------- requests
_PLAIN_TYPES = frozenset(("string", "boolean", "integer", "long"))
"""Member types the JSON protocol serializes as the value itself."""


def _blob_text(value: Any) -> str:
    """A binary attribute value (``B``, ``BS``) as request JSON holds it: base64 text, as botocore writes it."""
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(value).decode()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def plain_input(operation_model: Any) -> bool:
    """Whether botocore's JSON serialization of the operation's parameters is the parameters themselves,
    but for the bytes of binary attribute values: every member reachable from its input (attribute values
    aside) is a string, boolean or integer, a list, map or structure of those, with no renamed member, host
    prefix or document type. Worked out from the service model."""
    if operation_model.endpoint or operation_model.input_shape is None:
        return False
    seen: set[str] = set()

    def plain(shape: Any) -> bool:
        if shape.name == ATTRIBUTE_VALUE or shape.name in seen:
            return True  # an attribute value's only non-JSON part is binary: handled by _blob_text
        seen.add(shape.name)
        kind = shape.type_name
        if kind == "structure":
            return not shape.is_document_type and all(
                "name" not in member.serialization and plain(member) for member in shape.members.values())
        if kind == "list":
            return bool(plain(shape.member))
        if kind == "map":
            return bool(plain(shape.key) and plain(shape.value))
        return kind in _PLAIN_TYPES

    return plain(operation_model.input_shape)


class ItemSerializer(JSONSerializer):  # type: ignore[misc]
    """botocore's ``json`` protocol serializer, which for an operation whose parameters are their own JSON
    (:func:`plain_input`: every item operation) writes the body as ``json.dumps`` of the parameters, binary
    values as base64 text, instead of rebuilding the parameters member by member first. The request around
    the body (method, headers) is botocore's own."""

    _plain: dict[str, bool]

    def serialize_to_request(self, parameters: Any, operation_model: Any) -> Any:
        plain = self._plain.get(operation_model.name)
        if plain is None:
            plain = self._plain[operation_model.name] = plain_input(operation_model)
        if not plain:
            return super().serialize_to_request(parameters, operation_model)
        request = super().serialize_to_request({}, operation_model)
        request["body"] = json.dumps(parameters, default=_blob_text).encode(self.DEFAULT_ENCODING)
        return request


# ---------------------------------------------------------------------------- installing
_aio_factory: type[ItemParserFactory] | None = None


def aio_parser_factory() -> type[ItemParserFactory]:
    """:class:`ItemParserFactory` for aiobotocore (whose parsers are coroutines): made on first use, since the
    sync API never imports aiobotocore."""
    global _aio_factory
    if _aio_factory is None:
        from aiobotocore.parsers import AioJSONParser, AioResponseParserFactory  # type: ignore[import-untyped]

        class AioItemJSONParser(ItemParsing, AioJSONParser):  # type: ignore[misc]
            """aiobotocore's ``json`` protocol parser with :class:`ItemParsing`."""

        class AioItemParserFactory(ItemParserFactory, AioResponseParserFactory):  # type: ignore[misc]
            parser_class = AioItemJSONParser
            replaces = AioResponseParserFactory

        _aio_factory = AioItemParserFactory
    return _aio_factory


def install(client: Any, *, factory_class: type[ItemParserFactory] = ItemParserFactory) -> Any:
    """Put the short paths on ``client`` (a client this library created): its serializer when that is
    botocore's plain JSON one, and a ``factory_class`` parser factory on its endpoint when that has the factory
    ``factory_class.replaces`` (botocore's, or aiobotocore's for :func:`aio_parser_factory`). Returns the
    client."""
    serializer = getattr(client, "_serializer", None)
    if type(serializer) is JSONSerializer:
        faster = ItemSerializer.__new__(ItemSerializer)
        faster.__dict__.update(serializer.__dict__)
        faster._plain = {}
        client._serializer = faster
    endpoint: Any = getattr(client, "_endpoint", None)
    factory: Any = getattr(endpoint, "_response_parser_factory", None)
    defaults: dict[str, Any] = dict(getattr(factory, "_defaults", {}))
    if factory is not None and type(factory) is factory_class.replaces:
        made: Any = factory_class()
        made._defaults = defaults
        endpoint._response_parser_factory = made
    return client


def installed(client: Any) -> bool:
    """Whether ``client`` serializes and parses attribute values by the short paths."""
    endpoint = getattr(client, "_endpoint", None)
    factory = getattr(endpoint, "_response_parser_factory", None)
    return isinstance(getattr(client, "_serializer", None), ItemSerializer) and isinstance(
        factory.create_parser("json") if factory is not None else None, ItemParsing)
