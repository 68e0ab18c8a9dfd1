"""The layout of an item model: how each of its attributes is stored, worked out once per model class.

PynamoDB's constructor, ``serialize()`` and ``from_raw_data`` visit every declared attribute through its
descriptor, at tens of microseconds per item. What they compute depends only on the model class (each
attribute's stored name, DynamoDB type, serializer and deserializer, the required attributes, the
discriminator and the defaults), so :func:`layout_of` computes it once per model and the operations below
run on it. ``TableItem`` exposes them as its ``build``, ``serialize``, ``encode_item``, ``encode_values``,
``decode_attributes`` and ``decode_present``:

* :meth:`Layout.build` is ``Model(pk, sk, **values)`` without the per-attribute setters, and
  :meth:`Layout.serialize` an instance's ``serialize()`` visiting only the values it has;
* :meth:`Layout.encode_item` is ``Model(**values).serialize()`` of a new item without building the instance,
  :meth:`Layout.encode_values` the serialized form of some of its attributes (part of an item, the values of
  an update or a condition);
* :meth:`Layout.decode` is what ``from_raw_data`` decodes for the attributes named (absent or NULL: None),
  :meth:`Layout.decode_present` the same for the attributes an item has (absent: left out).

Every result is PynamoDB's own (each attribute's ``serialize``/``deserialize`` and type): the unit tests
compare them for every entity model. A self-typed attribute (``attributes.SelfTypedAttribute``) serializes to
its whole typed value and is stored as that; a :class:`Stored` value is taken as it is stored; an ``int``
given for a ``TTLAttribute`` is epoch seconds (what it stores for ``epoch_datetime(seconds)``).
"""

from __future__ import annotations

import threading
from calendar import timegm
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from pynamodb.attributes import Attribute, DiscriminatorAttribute, NumberAttribute, TTLAttribute
from pynamodb.constants import NULL, NUMBER
from pynamodb.exceptions import AttributeNullError

from mastra_dynamo.dynamo.codec import AttributeValue, Item
from mastra_dynamo.models.attributes import SelfTypedAttribute

if TYPE_CHECKING:
    from pynamodb.models import Model

    from mastra_dynamo.schema.keys import Key

M = TypeVar("M", bound="Model")
Names = tuple[str, ...] | tuple[tuple[str, str], ...]
"""Attributes to decode: Python names, or (key in the result, Python name) pairs."""


class Stored:
    """A value exactly as it is stored (a typed attribute value, e.g. read from an item): encoded and bound as
    is, whatever the attribute."""

    __slots__ = ("value",)

    def __init__(self, value: AttributeValue) -> None:
        self.value = value

    @classmethod
    def read(cls, attr: Attribute[Any], raw: Item) -> Stored:
        """Attribute ``attr`` of a stored item, as stored (to carry it over unchanged)."""
        return cls(raw[attr.attr_name])

    @classmethod
    def of(cls, attr: Attribute[Any], value: Any) -> Stored:
        """``value`` serialized once by ``attr`` (to encode into many items or requests)."""
        return cls(typed(attr, value))


def typed(attr: Attribute[Any], value: Any) -> AttributeValue:
    """``value`` serialized by ``attr`` as the typed attribute value an item holds (a :class:`Stored` value:
    as it is)."""
    if isinstance(value, Stored):
        return value.value
    if isinstance(attr, SelfTypedAttribute):
        return attr.serialize(value)
    if type(value) is int and type(attr).serialize is NumberAttribute.serialize:  # json.dumps of an int: str()
        return {NUMBER: str(value)}
    return {attr.attr_type: attr.serialize(value)}


class Field(NamedTuple):
    """How one attribute is stored."""

    name: str
    """The Python name."""
    stored: str
    """The stored name."""
    kind: str | None
    """The DynamoDB type its serialized value is wrapped in; None for a self-typed attribute."""
    encode: Callable[[Any], Any] | None
    """Its ``serialize`` (None where that is the identity)."""
    read_kind: str | None
    """The DynamoDB type its stored value is read off (``get_value``); None: the whole typed value."""
    decode: Callable[[Any], Any] | None
    """Its ``deserialize`` after ``get_value`` (None where both together are what ``read_kind`` reads)."""


_Plan = tuple[tuple[str, str, str | None, Callable[[Any], Any] | None], ...]
"""(key in the result, stored name, type to read, decoder) of each attribute a decode names."""
_MAX_PLANS = 512


def serializer(attr: Attribute[Any]) -> Callable[[Any], Any] | None:
    """``attr.serialize`` (None where that is the identity), with PynamoDB's JSON encoding of numbers and
    epoch seconds skipped where it is ``str`` (an ``int``; a TTL's aware datetime)."""
    serialize = attr.serialize
    if isinstance(attr, TTLAttribute):
        def serialize_ttl(value: Any) -> Any:
            if type(value) is int:
                return str(value)
            if isinstance(value, datetime) and value.tzinfo is not None:  # TTLAttribute's whole UTC seconds
                return str(timegm(value.utctimetuple()))
            return serialize(value)
        return serialize_ttl
    if type(attr).serialize is NumberAttribute.serialize:  # json.dumps: the same text as str() for an int
        def serialize_number(value: Any) -> Any:
            return str(value) if type(value) is int else serialize(value)
        return serialize_number
    if type(attr).serialize is Attribute.serialize:
        return None
    return serialize


def _field(name: str, attr: Attribute[Any]) -> Field:
    self_typed = isinstance(attr, SelfTypedAttribute)
    get_value, deserialize = attr.get_value, attr.deserialize
    plain_read = type(attr).get_value is Attribute.get_value  # the value under its type
    decode: Callable[[Any], Any] | None = None if type(attr).deserialize is Attribute.deserialize else deserialize
    if not plain_read and not self_typed:  # (a self-typed attribute's get_value hands over the typed value)

        def read_and_decode(value: Any) -> Any:
            return deserialize(get_value(value))

        decode = read_and_decode
    return Field(name, attr.attr_name, None if self_typed else str(attr.attr_type), serializer(attr),
                 str(attr.attr_type) if plain_read else None, decode)


class Layout:
    """What a model's items look like, computed once per model class (see the module docstring)."""

    __slots__ = ("_lock", "_plans", "defaults", "fields", "hash_key", "initial", "range_key", "required", "serial",
                 "stamp")

    def __init__(self, model: type[Model]) -> None:
        attributes = model.get_attributes()
        self.hash_key, self.range_key = str(model._hash_keyname), str(model._range_keyname)
        """The Python names of the key attributes (``pk``, ``sk``)."""
        self.fields: dict[str, Field] = {name: _field(name, attr) for name, attr in attributes.items()}
        """Every attribute by Python name, in declaration order (``serialize()``'s order)."""
        initial: dict[str, Any] = {}
        defaults: list[tuple[str, Callable[[], Any]]] = []
        discriminator = None
        for name, attr in attributes.items():
            if isinstance(attr, DiscriminatorAttribute):
                discriminator = name
                if attr.get_discriminator(model) is not None:  # an entity, not a base of entities
                    initial[name] = model
        for name, attr in attributes.items():
            default = attr.default_for_new if attr.default_for_new is not None else attr.default
            if callable(default):
                defaults.append((name, default))
            elif default is not None:
                initial[name] = default
        self.initial = initial
        """The values PynamoDB's constructor sets before the caller's: the discriminator and constant defaults."""
        self.defaults = tuple(defaults)
        """Defaults computed for each new item (by the constructor: callables)."""
        self.stamp: Item = {self.fields[name].stored: typed(attributes[name], value)
                            for name, value in initial.items()}
        """``initial`` serialized: what every new item of the model carries (``_et``, ``_sv``). Shared: never
        modify it."""
        self.required: tuple[Field, ...] = tuple(
            self.fields[name] for name, attr in attributes.items()
            if not attr.null and name not in initial and name != discriminator)
        """The attributes a new item must have a value of, besides ``initial``."""
        serial: list[tuple[str, str, str | None, Callable[[Any], Any] | None, Any, Any, bool]] = []
        for field in self.fields.values():
            constant = initial.get(field.name)
            serial.append((field.name, field.stored, field.kind, field.encode, constant,
                           None if constant is None else self.stamp[field.stored], not attributes[field.name].null))
        self.serial = tuple(serial)
        """Per attribute, in declaration order: its Python name, stored name, type and encoder (as its
        :class:`Field`), its constant initial value and that value serialized (None, None: it has none), and
        whether ``serialize()`` requires a value."""
        self._plans: dict[Names, _Plan] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ instances
    def build(self, model: type[M], key: Key, values: Mapping[str, Any]) -> M:
        """``model(key.pk, key.sk, **values)``: the same instance (``initial`` and the defaults set as the
        constructor sets them, then the key and ``values``), without PynamoDB's per-attribute setters. The
        values are taken as given: a ``ttl`` is the aware datetime that ``TTLAttribute`` would make of it."""
        assert self.fields.keys() >= values.keys(), sorted(values.keys() - self.fields.keys())
        item = model.__new__(model)
        attribute_values = dict(self.initial)
        for name, default in self.defaults:
            attribute_values[name] = default()
        attribute_values[self.hash_key] = key.pk
        attribute_values[self.range_key] = key.sk
        attribute_values.update(values)
        item.attribute_values = attribute_values
        return item

    def serialize(self, attribute_values: Mapping[str, Any], null_check: bool = True) -> Item:
        """What ``serialize()`` returns for an instance with these values (self-typed attributes stored as
        their typed value), in the same order, looking at the declared attributes' values only."""
        out: Item = {}
        get = attribute_values.get
        for name, stored, kind, encode, constant, constant_stored, required in self.serial:
            value = get(name)
            if value is None:
                if required and null_check:
                    raise AttributeNullError(name)
                continue
            if value is constant:  # the discriminator, the schema version
                out[stored] = constant_stored
                continue
            serialized = value if encode is None else encode(value)
            if kind is None:
                out[stored] = serialized
            elif serialized is not None:
                out[stored] = {kind: serialized}
            elif required and null_check:
                raise AttributeNullError(name)
        return out

    # ------------------------------------------------------------------ encoding without an instance
    def encode_values(self, values: Mapping[str, Any], into: Item | None = None) -> Item:
        """The attributes ``values`` names (Python names) serialized and named by their stored names (into
        ``into`` when given): None values, and values that serialize to nothing, are left out; a
        :class:`Stored` value is taken as it is."""
        fields = self.fields
        item: Item = {} if into is None else into
        for name, value in values.items():
            if value is None:
                continue
            stored, kind, encode = fields[name][1:4]
            if value.__class__ is Stored:
                item[stored] = value.value
                continue
            serialized = value if encode is None else encode(value)
            if kind is None:
                item[stored] = serialized
            elif serialized is not None:
                item[stored] = {kind: serialized}
        return item

    def encode_item(self, values: Mapping[str, Any], *, encoded: Item | None = None) -> Item:
        """``Model(**values).serialize()`` of a new item (``values`` by Python name, the key included) without
        the instance: the stamp, ``encoded`` (attributes the caller serialized already, by stored name), then
        ``values`` as :meth:`encode_values` serializes them, with the defaults of the attributes they leave
        unset. Raises ``AttributeNullError`` (a ValueError) when a required attribute (the key included) has no
        value, as ``serialize()`` does."""
        item: Item = dict(self.stamp)
        if encoded:
            item.update(encoded)
        if self.defaults:
            values = dict(values)
            for name, default in self.defaults:
                if values.get(name) is None:
                    values[name] = default()
        self.encode_values(values, item)
        for field in self.required:
            if field.stored not in item:
                raise AttributeNullError(field.name)
        return item

    # ------------------------------------------------------------------ decoding
    def _plan(self, names: Names) -> _Plan:
        plan = self._plans.get(names)
        if plan is None:
            entries = []
            for entry in names:
                key, name = (entry, entry) if isinstance(entry, str) else entry
                field = self.fields[name]
                entries.append((key, field.stored, field.read_kind, field.decode))
            plan = tuple(entries)
            with self._lock:
                if len(self._plans) < _MAX_PLANS:
                    self._plans[names] = plan
        return plan

    def decode(self, raw: Item, names: Names) -> dict[str, Any]:
        """The attributes ``names`` of a stored item, decoded as ``from_raw_data`` decodes them (absent or
        NULL: None)."""
        out: dict[str, Any] = {}
        for key, stored, kind, decode in self._plan(names):
            value = raw.get(stored)
            if not value or NULL in value:
                out[key] = None
                continue
            if kind is not None:
                value = value[kind]
            out[key] = value if decode is None else decode(value)
        return out

    def decode_present(self, raw: Item, names: Names) -> dict[str, Any]:
        """The attributes ``names`` that a stored item has, decoded as :meth:`decode` decodes them (NULL:
        None). Absent ones are left out, so absent and NULL stay distinct."""
        out: dict[str, Any] = {}
        for key, stored, kind, decode in self._plan(names):
            value = raw.get(stored)
            if value is None:
                continue
            if NULL in value:
                out[key] = None
                continue
            if kind is not None:
                value = value[kind]
            out[key] = value if decode is None else decode(value)
        return out


_layouts: dict[type[Any], Layout] = {}
_layouts_lock = threading.Lock()


def layout_of(model: type[Model]) -> Layout:
    """The layout of ``model`` (computed on first use, then shared)."""
    layout = _layouts.get(model)
    if layout is None:
        made = Layout(model)
        with _layouts_lock:
            layout = _layouts.setdefault(model, made)
    return layout
