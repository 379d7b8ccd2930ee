//! `SendBatch`: many requests through the engine at once, each result in its
//! place, within a deadline, with keys checked against the journal.

use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::unbounded;
use serde_json::{Map, Value as Json};

use super::engine::{Engine, Job, Outcome, Priority, Ticket};
use super::journal::{Journal, Recorded};

/// One request of a batch.
#[derive(Clone, Debug)]
pub struct BatchItem {
    /// The idempotency key; `None` sends without the journal.
    pub key: Option<String>,
    /// The Bot API method.
    pub method: String,
    /// Its parameters.
    pub params: Map<String, Json>,
}

/// What became of one request of a batch.
#[derive(Clone, Debug, PartialEq)]
pub enum ItemResult {
    /// Sent, refused, unknown or not sent in this run.
    Done(Outcome),
    /// The journal already had it (sent, or possibly sent): nothing was sent now.
    Recorded(Recorded),
    /// The deadline came before it was started: not sent, safe to send again.
    Pending,
    /// Started, with no answer by the deadline: it may arrive.
    NoAnswerInTime,
}

/// Sends `items` through `engine` and waits until every one has a result or
/// `deadline` passes. Keys found in `journal` are not sent again.
pub fn run(
    engine: &Engine,
    journal: Option<&Arc<Journal>>,
    items: Vec<BatchItem>,
    deadline: Instant,
) -> Vec<ItemResult> {
    let count = items.len();
    let mut results: Vec<Option<ItemResult>> = vec![None; count];
    let mut tickets: Vec<Option<Arc<Ticket>>> = vec![None; count];
    let (tx, rx) = unbounded::<(usize, Outcome)>();
    for (i, item) in items.into_iter().enumerate() {
        let journal = item.key.as_ref().and(journal).cloned();
        if let (Some(j), Some(key)) = (&journal, &item.key) {
            if let Some(recorded) = j.get(key) {
                results[i] = Some(ItemResult::Recorded(recorded));
                continue;
            }
        }
        let ticket = Ticket::new();
        tickets[i] = Some(ticket.clone());
        let paid = item.params.get("allow_paid_broadcast") == Some(&Json::Bool(true));
        let key = item.key.clone();
        let start_journal = journal.clone();
        let start_key = key.clone();
        let tx = tx.clone();
        engine.submit(
            Job {
                method: item.method,
                params: item.params,
                files: Vec::new(),
                paid,
                deadline: Some(deadline),
                ticket,
                cancel: None,
                on_start: Some(Box::new(move || {
                    if let (Some(j), Some(k)) = (start_journal, start_key) {
                        j.in_flight(&k);
                    }
                })),
                done: Box::new(move |outcome| {
                    if let (Some(j), Some(k)) = (journal, key) {
                        record(&j, &k, &outcome);
                    }
                    let _ = tx.send((i, outcome));
                }),
            },
            Priority::Batch,
        );
    }
    drop(tx);
    let mut left = results.iter().filter(|r| r.is_none()).count();
    while left > 0 {
        match rx.recv_deadline(deadline) {
            Ok((i, outcome)) => {
                if results[i].is_none() {
                    results[i] = Some(ItemResult::Done(outcome));
                    left -= 1;
                }
            }
            Err(_) => break,
        }
    }
    // Whatever is still open: given up if not started, else no answer in time.
    // Results that came meanwhile win.
    while let Ok((i, outcome)) = rx.try_recv() {
        if results[i].is_none() {
            results[i] = Some(ItemResult::Done(outcome));
        }
    }
    results
        .into_iter()
        .zip(tickets)
        .map(|(result, ticket)| match result {
            Some(r) => r,
            None if ticket.is_some_and(|t| t.give_up()) => ItemResult::Pending,
            None => ItemResult::NoAnswerInTime,
        })
        .collect()
}

/// Writes an outcome to the journal.
fn record(journal: &Journal, key: &str, outcome: &Outcome) {
    match outcome {
        Outcome::Sent { result, .. } => journal.sent(key, result),
        Outcome::Unknown { error, .. } => journal.unknown(key, &error.to_string()),
        Outcome::Failed { .. } | Outcome::NotSent { .. } => journal.forget(key),
    }
}
