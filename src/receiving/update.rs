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
        Some(Update {
            id,
            kind,
            json: value.to_string(),
        })
    }
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
        assert!(Update::from_value(&serde_json::json!({"message":{}})).is_none());
        assert_eq!(json_array([&u, &u]), format!("[{},{}]", u.json, u.json));
    }
}
