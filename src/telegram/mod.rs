//! The Telegram Bot API client. It knows nothing of 1C.

mod answer;
mod client;
mod error;
mod limits;
mod longpoll;
mod markup;
mod multipart;
mod retry;
mod send;
mod split;
mod tls;
mod token;

pub use client::{
    check_proxy, normalize_api_url, without_userinfo, Client, ClientConfig, DEFAULT_API_URL,
};
pub use error::{ConfigError, Error, ResponseParameters};
pub use limits::{utf16_len, Limits, CAPTION_LIMIT, MB, TEXT_LIMIT};
pub use longpoll::{Aborter, LongPoll, PollRequest, CONNECT_TIMEOUT};
pub use markup::{escape_html, escape_markdown_v2};
pub use multipart::{Source, Upload};
pub use send::{ClientOptions, Failure, Outcome, Request};
pub use split::{split, ParseMode, SplitError};
pub use tls::read_ca_file;
pub use token::{Token, TokenError};
