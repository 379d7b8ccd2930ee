//! The Telegram Bot API client. It knows nothing of 1C.

mod answer;
mod client;
mod error;
mod limits;
mod longpoll;
mod markup;
mod multipart;
mod request;
mod resolver;
mod retry;
mod send;
mod split;
mod tls;
mod token;
mod transport;

pub use client::Client;
#[cfg(test)]
pub use error::ResponseParameters;
pub use error::{ConfigError, Error};
pub use limits::{utf16_len, Limits, CAPTION_LIMIT, TEXT_LIMIT};
pub use longpoll::{Aborter, LongPoll, PollRequest};
pub use markup::{escape_html, escape_markdown_v2};
pub use multipart::{Source, Upload};
pub use request::{ClientConfig, ClientOptions, Request, DEFAULT_API_URL};
pub use retry::is_read;
pub use split::{split, ParseMode};
pub use tls::read_ca_file;
pub use token::{Token, TokenError};
pub use transport::{check_proxy, normalize_api_url, without_userinfo};
