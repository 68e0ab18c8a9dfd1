"""Message content is stored with its text once and comes back exactly as it was given."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mastra_dynamo.dynamo.codec import item_size
from mastra_dynamo.models.memory import SHARED_TEXT, MessageItem
from mastra_dynamo.records.memory import Message

TEXT = st.text(max_size=40)
PART = st.one_of(
    st.fixed_dictionaries({"type": st.just("text"), "text": TEXT}),
    st.fixed_dictionaries({"type": st.just("tool-invocation"), "toolInvocation": st.dictionaries(TEXT, TEXT)}),
    st.fixed_dictionaries({"type": st.just("text")}),
)


@st.composite
def contents(draw: st.DrawFn) -> dict[str, Any]:
    parts = draw(st.lists(PART, max_size=4))
    texts = [p["text"] for p in parts if p.get("type") == "text" and "text" in p]
    choice = draw(st.sampled_from(["joined", "newline", "other", "absent", "none"]))
    content: dict[str, Any] = {"format": 2}
    if draw(st.booleans()):
        content["metadata"] = draw(st.dictionaries(TEXT, TEXT, max_size=2))
    if choice == "joined":
        content["content"] = "".join(texts)
    elif choice == "newline":
        content["content"] = "\n".join(texts)
    elif choice == "other":
        content["content"] = draw(TEXT)
    elif choice == "none":
        content["content"] = None
    content["parts"] = parts
    if draw(st.booleans()):  # key order is part of what comes back
        content = dict(reversed(list(content.items())))
    return content


@given(contents())
def test_content_round_trips_exactly_with_key_order(content: dict[str, Any]) -> None:
    message = Message(id="m", role="user", thread_id="t", content=content)
    back = MessageItem.record_from_raw(MessageItem.new(message).serialize()).content
    assert back == content
    assert list(back) == list(content)


def test_text_of_a_plain_message_is_stored_once() -> None:
    text = "word " * 150
    message = Message(id="m", role="assistant", thread_id="t", content=text)
    assert message.content["content"] == text and message.content["parts"][0]["text"] == text
    item = MessageItem.new(message).serialize()
    assert SHARED_TEXT in item
    assert item_size(item) < len(text)  # once, and compressed
    assert MessageItem.record_from_raw(item).content == message.content
