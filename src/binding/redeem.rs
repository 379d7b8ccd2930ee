//! Redeeming: deciding whether an incoming message is a binding attempt,
//! checking it against the store, limiting wrong tries, and the replies.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use serde_json::Value;

use super::code;
use super::store::{self, Binding, Ended, Store, MAX_TRIES};

/// What a message is, as far as binding goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// `/start bind-…` from a deep link or a QR code.
    Payload(String),
    /// The 12 digits typed by hand (separators removed).
    Code(String),
}

/// Who sent an attempt, from the message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sender {
    pub user_id: i64,
    pub chat_id: i64,
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub language_code: Option<String>,
}

/// What became of an update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Not a binding attempt: deliver it as usual.
    Pass,
    /// An attempt that failed or was handled before: nobody gets it.
    Consumed,
    /// An attempt that bound a code: deliver the binding instead.
    Bound {
        /// The code, 12 digits.
        code: String,
        binding: Box<Binding>,
    },
}

/// Reads a private text message as a binding attempt.
pub fn attempt_in(update: &Value) -> Option<(Attempt, Sender)> {
    let message = update.get("message")?;
    let chat = message.get("chat")?;
    if chat.get("type")?.as_str()? != "private" {
        return None;
    }
    let text = message.get("text")?.as_str()?;
    let attempt = if let Some(rest) = text.strip_prefix("/start") {
        let rest = rest.strip_prefix('@').map_or(rest, |r| {
            r.find(char::is_whitespace).map_or("", |i| &r[i..])
        });
        if !rest.starts_with(char::is_whitespace) {
            return None;
        }
        Attempt::Payload(code::parse_payload(rest)?.to_owned())
    } else {
        Attempt::Code(code::parse_code(text)?)
    };
    let from = message.get("from")?;
    let text_of = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let sender = Sender {
        user_id: from.get("id")?.as_i64()?,
        chat_id: chat.get("id")?.as_i64()?,
        username: text_of(from, "username"),
        first_name: text_of(from, "first_name"),
        last_name: text_of(from, "last_name"),
        language_code: text_of(from, "language_code"),
    };
    Some((attempt, sender))
}

/// Why an attempt was refused; each has its reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    Wrong,
    Expired,
    Used,
    TooManyTries,
}

/// The texts the bot answers with.
#[derive(Clone, Debug, Default)]
pub struct Replies {
    /// `BindingReply`: the success text, `%1` for the subject's title;
    /// empty for the default in the person's language.
    pub success: String,
}

/// The default success text, with and without a title.
pub fn default_success(russian: bool, title: &str) -> String {
    match (russian, title.is_empty()) {
        (true, false) => format!("Готово! Ваш Telegram привязан: {title}."),
        (true, true) => "Готово! Ваш Telegram привязан.".into(),
        (false, false) => format!("Done! Your Telegram is now linked: {title}."),
        (false, true) => "Done! Your Telegram is now linked.".into(),
    }
}

fn refusal_text(russian: bool, why: Refusal) -> &'static str {
    match (why, russian) {
        (Refusal::Wrong, true) => "Код не подошёл. Проверьте цифры или попросите новый код.",
        (Refusal::Wrong, false) => {
            "Sorry, this code did not work. Please check the digits or ask for a new code."
        }
        (Refusal::Expired, true) => "Срок действия кода истёк. Пожалуйста, попросите новый код.",
        (Refusal::Expired, false) => "Sorry, this code has expired. Please ask for a new one.",
        (Refusal::Used, true) => {
            "Этот код уже использован или отменён. Пожалуйста, попросите новый код."
        }
        (Refusal::Used, false) => {
            "Sorry, this code has already been used or cancelled. Please ask for a new one."
        }
        (Refusal::TooManyTries, true) => {
            "Слишком много неверных попыток. Пожалуйста, подождите 10 минут и попробуйте снова."
        }
        (Refusal::TooManyTries, false) => {
            "Too many wrong tries. Please wait 10 minutes and try again."
        }
    }
}

/// Sends a text to a chat; errors are the sender's to log.
pub type Reply = dyn Fn(i64, &str) + Send + Sync;

/// Redeems attempts against one bot's store.
pub struct Redeemer {
    store: Store,
    replies: Arc<RwLock<Replies>>,
    reply: Box<Reply>,
    /// When each throttled user was last told to wait (unix time), so a
    /// flood gets one answer a minute, not one per message.
    warned: Mutex<HashMap<i64, i64>>,
    /// When old codes were last pruned (unix time).
    pruned: Mutex<i64>,
}

impl Redeemer {
    /// A redeemer over `store` that answers through `reply`.
    pub fn new(store: Store, replies: Arc<RwLock<Replies>>, reply: Box<Reply>) -> Redeemer {
        Redeemer {
            store,
            replies,
            reply,
            warned: Mutex::new(HashMap::new()),
            pruned: Mutex::new(0),
        }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Handles update `update_id` (its JSON in `update`).
    pub fn handle(&self, update_id: i64, update: &Value) -> Outcome {
        let Some((attempt, sender)) = attempt_in(update) else {
            return Outcome::Pass;
        };
        // While no code is kept, nothing is an attempt.
        if !self.store.has_codes() {
            return Outcome::Pass;
        }
        let now = store::now();
        self.prune(now);
        if !self.store.has_codes() {
            return Outcome::Pass;
        }
        if let Some(bound) = self.store.seen(update_id) {
            return self.again(update_id, &bound, &attempt);
        }
        let russian = sender
            .language_code
            .as_deref()
            .is_some_and(|l| l.to_ascii_lowercase().starts_with("ru"));
        if self.store.tries(sender.user_id, now).len() >= MAX_TRIES {
            let mut warned = self.warned.lock().unwrap_or_else(|e| e.into_inner());
            if warned.get(&sender.user_id).is_none_or(|t| now - t >= 60) {
                warned.insert(sender.user_id, now);
                drop(warned);
                (self.reply)(sender.chat_id, refusal_text(russian, Refusal::TooManyTries));
            }
            return Outcome::Consumed;
        }
        let outcome = self.redeem(update_id, &attempt, &sender, now);
        let result = match outcome {
            Ok((code, binding, fresh)) => {
                let _ = self.store.mark_seen(update_id, Some(&binding.code_id));
                let template = self
                    .replies
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .success
                    .clone();
                let text = if template.trim().is_empty() {
                    default_success(russian, &binding.title)
                } else {
                    template.replace("%1", &binding.title)
                };
                if fresh {
                    (self.reply)(sender.chat_id, &text);
                }
                Outcome::Bound {
                    code,
                    binding: Box::new(binding),
                }
            }
            Err(why) => {
                let _ = self.store.mark_seen(update_id, None);
                if let Err(e) = self.store.add_try(sender.user_id, now) {
                    log::warn!("binding: cannot record a wrong try: {e}");
                }
                (self.reply)(sender.chat_id, refusal_text(russian, why));
                Outcome::Consumed
            }
        };
        log::info!(
            "binding: update {update_id} from user {} {}",
            sender.user_id,
            match &result {
                Outcome::Bound { .. } => "bound a code",
                _ => "was refused",
            }
        );
        result
    }

    /// Drops codes kept past their time, at most once a minute, so that
    /// attempts stop being recognised a day after the last code expired.
    fn prune(&self, now: i64) {
        let mut pruned = self.pruned.lock().unwrap_or_else(|e| e.into_inner());
        if now - *pruned >= 60 {
            *pruned = now;
            drop(pruned);
            self.store.prune(now);
        }
    }

    /// An update handled before (delivered again after a restart, or read
    /// by `BindContact` before the poller): the same outcome, no new reply.
    fn again(&self, update_id: i64, bound: &str, attempt: &Attempt) -> Outcome {
        if bound.is_empty() {
            return Outcome::Consumed;
        }
        match self.store.ended(bound) {
            Some(Ended::Bound(binding)) if binding.update_id == update_id => {
                let code = match attempt {
                    Attempt::Code(c) => c.clone(),
                    Attempt::Payload(p) => self.code_of(&binding, p).unwrap_or_default(),
                };
                Outcome::Bound {
                    code,
                    binding: Box::new(binding),
                }
            }
            _ => Outcome::Consumed,
        }
    }

    fn code_of(&self, binding: &Binding, payload: &str) -> Option<String> {
        let record = self
            .store
            .codes()
            .into_iter()
            .find(|r| r.id == binding.code_id)?;
        code::unseal(&record.sealed_code, &record.id, payload)
    }

    fn redeem(
        &self,
        update_id: i64,
        attempt: &Attempt,
        sender: &Sender,
        now: i64,
    ) -> Result<(String, Binding, bool), Refusal> {
        let (record, code) = match attempt {
            Attempt::Payload(p) => {
                let record = self.store.find_payload(p).ok_or(Refusal::Wrong)?;
                let code = code::unseal(&record.sealed_code, &record.id, p).unwrap_or_default();
                (record, code)
            }
            Attempt::Code(c) => (self.store.find_code(c).ok_or(Refusal::Wrong)?, c.clone()),
        };
        match self.store.ended(&record.id) {
            // This very update bound it before a crash cut the rest short:
            // the same outcome, answered already.
            Some(Ended::Bound(b)) if b.update_id == update_id && b.user_id == sender.user_id => {
                return Ok((code, b, false));
            }
            Some(_) => return Err(Refusal::Used),
            None => {}
        }
        if now >= record.expires_at {
            return Err(Refusal::Expired);
        }
        let binding = Binding {
            code_id: record.id.clone(),
            subject: record.subject.clone(),
            title: record.title.clone(),
            user_id: sender.user_id,
            chat_id: sender.chat_id,
            username: sender.username.clone(),
            first_name: sender.first_name.clone(),
            last_name: sender.last_name.clone(),
            language_code: sender.language_code.clone(),
            date: now,
            update_id,
        };
        match self.store.end(&record.id, &Ended::Bound(binding.clone())) {
            Ok(true) => Ok((code, binding, true)),
            Ok(false) => Err(Refusal::Used),
            Err(e) => {
                log::warn!("binding: cannot record a redemption: {e}");
                Err(Refusal::Wrong)
            }
        }
    }
}
