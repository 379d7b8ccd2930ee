//! One update as received: its id, its kind and its JSON text.

use serde_json::Value;

/// Every update kind of Bot API 10 (`Update`'s optional fields), sent as
/// `allowed_updates` when the caller asked for all of them.
pub const ALL_KINDS: &[&str] = &[
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "guest_message",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
    "managed_bot",
];

/// An update from Telegram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Update {
    /// `update_id`.
    pub id: i64,
    /// The name of its one optional field (`message`, `callback_query`, …);
    /// `unknown` when there is none.
    pub kind: String,
    /// The update as compact JSON.
    pub json: String,
}

impl Update {
    /// Reads an update object; `None` without an integer `update_id`.
    pub fn from_value(value: &Value) -> Option<Update> {
        let object = value.as_object()?;
        let id = object.get("update_id")?.as_i64()?;
        let kind = object
            .keys()
            .find(|k| k.as_str() != "update_id")
            .cloned()
            .unwrap_or_else(|| "unknown".to_owned());
        // `update_id` first, so a handler reads it from the start of the text.
        let mut rest = object.clone();
        rest.remove("update_id");
        let rest = Value::Object(rest).to_string();
        let json = match rest.strip_prefix('{').filter(|r| *r != "}") {
            Some(fields) => format!("{{\"update_id\":{id},{fields}"),
            None => format!("{{\"update_id\":{id}}}"),
        };
        Some(Update { id, kind, json })
    }
}

/// The `update_id` at the start of an update's JSON text as this module
/// writes it (`{"update_id":N,…`), read without parsing the rest.
pub fn leading_update_id(text: &str) -> Option<i64> {
    let rest = text.trim_start().strip_prefix('{')?.trim_start();
    let rest = rest.strip_prefix("\"update_id\"")?.trim_start();
    let rest = rest.strip_prefix(':')?.trim_start();
    let end = rest
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && c == '-')))
        .map_or(rest.len(), |(i, _)| i);
    rest[..end].parse().ok()
}

/// A JSON array of updates, as `GetUpdates` returns it.
pub fn json_array<'a>(updates: impl IntoIterator<Item = &'a Update>) -> String {
    let mut out = String::from("[");
    for (i, u) in updates.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&u.json);
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_is_the_field_besides_update_id() {
        let v: Value =
            serde_json::from_str(r#"{"update_id":7,"callback_query":{"id":"1"}}"#).unwrap();
        let u = Update::from_value(&v).unwrap();
        assert_eq!((u.id, u.kind.as_str()), (7, "callback_query"));
        assert_eq!(u.json, r#"{"update_id":7,"callback_query":{"id":"1"}}"#);
        assert_eq!(leading_update_id(&u.json), Some(7));
        assert_eq!(leading_update_id(r#" {"update_id": -3}"#), Some(-3));
        assert_eq!(leading_update_id(r#"{"message":{}}"#), None);
        let bare = Update::from_value(&serde_json::json!({"update_id":9})).unwrap();
        assert_eq!(bare.json, r#"{"update_id":9}"#);
        assert!(Update::from_value(&serde_json::json!({"message":{}})).is_none());
        assert_eq!(json_array([&u, &u]), format!("[{},{}]", u.json, u.json));
    }
}
