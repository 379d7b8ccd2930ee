//! # telegram-demo: the trading company's bot from `1c-samples/`, in the sandbox
//!
//! The add-in is loaded through `onec-simulator` exactly as 1C loads it, and every
//! Telegram update it raises as an external event is answered the way the 1C form
//! (`ВнешнееСобытие`) of `ОбщийМодуль.TelegramМеню.bsl` would answer it.
//!
//! * [`addin`]: finding, loading and configuring the add-in (the form's `ПриОткрытии`).
//! * [`bot`]: the event handler and the event loop (the form's `ВнешнееСобытие`).
//! * [`catalog`]: a small built-in product list (the configuration's catalogue).
//! * [`png`]: a tiny PNG encoder for the product pictures.

pub mod addin;
pub mod bot;
pub mod catalog;
pub mod png;
