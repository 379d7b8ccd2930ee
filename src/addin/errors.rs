//! Errors of the `Bot` object and their texts for 1C, in English or Russian.
//! Each text says what happened and what to do; none holds the token.

use crate::fsguard::FsError;
use crate::telegram::{self, ConfigError};

/// The language of error texts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Ru,
}

impl Lang {
    /// Russian for a code such as `ru` or `ru_RU`, English otherwise.
    pub fn from_code(code: &str) -> Lang {
        if code.trim().to_ascii_lowercase().starts_with("ru") {
            Lang::Ru
        } else {
            Lang::En
        }
    }

    /// The text in this language.
    pub fn pick(self, en: String, ru: String) -> String {
        match self {
            Lang::En => en,
            Lang::Ru => ru,
        }
    }
}

/// The name of a parameter or property in both languages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Name {
    pub en: &'static str,
    pub ru: &'static str,
}

impl Name {
    fn get(self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.en,
            Lang::Ru => self.ru,
        }
    }
}

/// A kind of value a parameter takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expected {
    String,
    Number,
    /// A number or a string (chat ids).
    NumberOrString,
    /// `Булево`.
    Boolean,
    /// A file: BinaryData, or a string with a path, URL or file_id.
    File,
}

impl Expected {
    fn text(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Expected::String, Lang::En) => "String",
            (Expected::String, Lang::Ru) => "Строка",
            (Expected::Number, Lang::En) => "Number",
            (Expected::Number, Lang::Ru) => "Число",
            (Expected::NumberOrString, Lang::En) => "Number or String",
            (Expected::NumberOrString, Lang::Ru) => "Число или Строка",
            (Expected::Boolean, Lang::En) => "Boolean",
            (Expected::Boolean, Lang::Ru) => "Булево",
            (Expected::File, Lang::En) => "BinaryData or String (a file path, URL or file_id)",
            (Expected::File, Lang::Ru) => {
                "ДвоичныеДанные или Строка (путь к файлу, URL или file_id)"
            }
        }
    }
}

/// What was too big to upload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Oversized {
    /// One file, by name when it has one.
    File(Option<String>),
    /// Every file attached with AddFile, together.
    Attachments,
    /// A file to download (`DownloadFile`).
    Download,
}

/// The 1C type of a value that was passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Got {
    Undefined,
    Null,
    Boolean,
    Number,
    Date,
    String,
    BinaryData,
    /// A variant type 1C does not pass, by its `vt` code.
    Other(u16),
}

impl Got {
    fn text(self, lang: Lang) -> String {
        let (en, ru) = match self {
            Got::Undefined => ("Undefined", "Неопределено"),
            Got::Null => ("Null", "Null"),
            Got::Boolean => ("Boolean", "Булево"),
            Got::Number => ("Number", "Число"),
            Got::Date => ("Date", "Дата"),
            Got::String => ("String", "Строка"),
            Got::BinaryData => ("BinaryData", "ДвоичныеДанные"),
            Got::Other(vt) => {
                return lang.pick(
                    format!("unsupported (vt={vt})"),
                    format!("неподдерживаемого (vt={vt})"),
                )
            }
        };
        lang.pick(en.into(), ru.into())
    }
}

/// Why a value was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invalid {
    /// The string holds a lone UTF-16 surrogate.
    BrokenUnicode,
    /// The string holds a NUL character.
    Nul,
    /// The number is not within `min..=max` or not whole.
    Range { min: i64, max: i64 },
    /// The API address is not an http(s) URL.
    ApiUrl,
    /// The proxy address is not usable.
    Proxy,
    /// The token is not `<digits>:<secret>`.
    TokenShape,
    /// Not a chat id (a number, or a string with digits or `@username`).
    ChatId,
    /// Not a JSON object (`Options`).
    JsonObject(String),
    /// A free-form reason, written into the text as it is.
    Other(String),
}

/// What a failed call means for the 1C code: `LastErrorKind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// A parameter or property value was refused; nothing was sent.
    InvalidInput,
    /// Nothing reached Telegram (no connection, or it broke before the
    /// request was written): repeating the call is safe.
    NotSent,
    /// The request was written, then no usable answer came: Telegram may
    /// have acted on it (the message may have been delivered).
    DeliveryUnknown,
    /// Telegram answered with this error code (400, 403, 409…).
    RefusedByTelegram(i64),
    /// Telegram answered 429: too many requests.
    RateLimited,
    /// Telegram refused the token (401).
    Unauthorized,
    /// A setting is missing or unusable (token, ApiUrl, Proxy, CaFile, StateDir, LogFile).
    Config,
}

impl ErrorKind {
    /// The value of `LastErrorKind`, e.g. `not_sent` or `refused_by_telegram:400`.
    pub fn code(self) -> String {
        match self {
            ErrorKind::InvalidInput => "invalid_input".into(),
            ErrorKind::NotSent => "not_sent".into(),
            ErrorKind::DeliveryUnknown => "delivery_unknown".into(),
            ErrorKind::RefusedByTelegram(code) => format!("refused_by_telegram:{code}"),
            ErrorKind::RateLimited => "rate_limited".into(),
            ErrorKind::Unauthorized => "unauthorized".into(),
            ErrorKind::Config => "config".into(),
        }
    }

    /// The kind of a failed Bot API call.
    fn of(error: &telegram::Error) -> ErrorKind {
        use telegram::Error as E;
        match error {
            E::Api { code: 401, .. } => ErrorKind::Unauthorized,
            // The token's shape or ApiUrl is wrong (CallMethod reports unknown methods itself).
            E::Api { code: 404, .. } => ErrorKind::Config,
            E::Api { code: 429, .. } => ErrorKind::RateLimited,
            E::Api { code, .. } if *code >= 500 => ErrorKind::DeliveryUnknown,
            E::Api { code, .. } => ErrorKind::RefusedByTelegram(*code),
            E::Connect { .. } => ErrorKind::NotSent,
            E::Timeout { written, .. } | E::Interrupted { written, .. } => {
                if *written {
                    ErrorKind::DeliveryUnknown
                } else {
                    ErrorKind::NotSent
                }
            }
            E::BadResponse { .. } => ErrorKind::DeliveryUnknown,
            E::Tls { .. } | E::Config(_) => ErrorKind::Config,
            E::LocalFile { .. } => ErrorKind::InvalidInput,
        }
    }
}

/// An error of a call on the `Bot` object.
#[derive(Clone, Debug, PartialEq)]
pub enum AddinError {
    /// A value of the wrong 1C type.
    WrongType {
        name: Name,
        expected: Expected,
        got: Got,
    },
    /// A value of the right type that cannot be used.
    Invalid { name: Name, why: Invalid },
    /// A property that cannot be written.
    ReadOnly(Name),
    /// No token was set before a call that needs it.
    TokenNotSet,
    /// The Bot API call failed.
    Telegram(telegram::Error),
    /// A bug inside the add-in (a caught panic); the object is still usable.
    Internal(String),
    /// A text composed by the caller in both languages (receiving).
    Localized {
        kind: ErrorKind,
        en: String,
        ru: String,
    },
    /// A file over Telegram's size limit, found before uploading.
    FileTooBig {
        what: Oversized,
        size: u64,
        limit: u64,
        local: bool,
    },
    /// A caption over 1024 characters.
    CaptionTooLong { len: usize },
    /// A local file that cannot be read.
    /// `detail` is the OS error, empty when the file does not exist.
    FileUnreadable { path: String, detail: String },
    /// A long text whose formatting cannot survive splitting.
    CannotSplit { mode: &'static str },
    /// Some parts of a long text were sent, then one failed.
    PartlySent {
        sent: usize,
        total: usize,
        cause: Box<AddinError>,
    },
    /// `CallMethod` named a method the server does not know.
    UnknownMethod(String),
    /// The log file cannot be opened.
    LogFile { path: String, detail: String },
    /// A long text would become more messages than `MaxParts`; nothing was sent.
    TooManyParts { parts: usize, max: usize },
    /// A path the add-in would read or write is refused (a FIFO, a device,
    /// too big, not our log, a name leaving its folder).
    Path {
        role: PathRole,
        path: String,
        error: FsError,
    },
}

/// What a refused path was meant for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathRole {
    /// `CaFile`.
    CaFile,
    /// `LogFile`.
    LogFile,
    /// A file to upload (`SendFile`, `AddFile`).
    Upload,
    /// A file a local Bot API server names for `DownloadFile`.
    Download,
    /// A file in `StateDir`.
    State,
}

impl PathRole {
    fn texts(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            PathRole::CaFile => (
                "The CA file (CaFile)",
                "Файл сертификатов (ФайлСертификатовCA)",
                "Give a PEM file of at most 1 MB, or leave CaFile empty to use the system's certificates.",
                "Укажите PEM-файл не больше 1 МБ или оставьте ФайлСертификатовCA пустым, чтобы использовать сертификаты системы.",
            ),
            PathRole::LogFile => (
                "The log file (LogFile)",
                "Файл журнала (ФайлЖурнала)",
                "Give the name of a new file, or of a log this add-in wrote.",
                "Укажите имя нового файла или журнала, который писала эта компонента.",
            ),
            PathRole::Upload => (
                "The file to send",
                "Отправляемый файл",
                "Give the path of a regular file the 1C process may read.",
                "Укажите путь к обычному файлу, который процесс 1С может прочитать.",
            ),
            PathRole::Download => (
                "The downloaded file",
                "Скачиваемый файл",
                "Check the local Bot API server (LocalServer) and its working folder.",
                "Проверьте локальный сервер Bot API (ЛокальныйСервер) и его рабочий каталог.",
            ),
            PathRole::State => (
                "The state file in StateDir",
                "Файл состояния в КаталогСостояния",
                "Remove it, or set StateDir to a folder only the 1C process writes.",
                "Удалите его или укажите в КаталогСостояния каталог, в который пишет только процесс 1С.",
            ),
        }
    }
}

impl AddinError {
    /// What the failure means for the caller (`LastErrorKind`).
    pub fn kind(&self) -> ErrorKind {
        match self {
            AddinError::WrongType { .. }
            | AddinError::Invalid { .. }
            | AddinError::ReadOnly(_)
            | AddinError::FileTooBig { .. }
            | AddinError::CaptionTooLong { .. }
            | AddinError::FileUnreadable { .. }
            | AddinError::CannotSplit { .. }
            | AddinError::TooManyParts { .. } => ErrorKind::InvalidInput,
            AddinError::TokenNotSet | AddinError::LogFile { .. } => ErrorKind::Config,
            // A file to send or a DownloadFile folder is a parameter; the
            // other paths are settings.
            AddinError::Path {
                role: PathRole::Upload | PathRole::Download,
                ..
            } => ErrorKind::InvalidInput,
            AddinError::Path { .. } => ErrorKind::Config,
            AddinError::Telegram(e) => ErrorKind::of(e),
            AddinError::Localized { kind, .. } => *kind,
            // Some parts went out; repeating the whole text would repeat them.
            AddinError::PartlySent { .. } => ErrorKind::DeliveryUnknown,
            AddinError::UnknownMethod(_) => ErrorKind::RefusedByTelegram(404),
            // A bug: where it struck is unknown, so nothing is assumed.
            AddinError::Internal(_) => ErrorKind::DeliveryUnknown,
        }
    }

    /// The text of the 1C exception.
    pub fn text(&self, lang: Lang) -> String {
        match self {
            AddinError::WrongType { name, expected, got } => lang.pick(
                format!(
                    "Parameter '{}' must be {}, but {} was passed.",
                    name.get(lang),
                    expected.text(lang),
                    got.text(lang)
                ),
                format!(
                    "Параметр '{}' должен иметь тип {}, а передано значение типа {}.",
                    name.get(lang),
                    expected.text(lang),
                    got.text(lang)
                ),
            ),
            AddinError::Invalid { name, why } => invalid_text(lang, name.get(lang), why),
            AddinError::ReadOnly(name) => lang.pick(
                format!("Property '{}' is read-only.", name.en),
                format!("Свойство '{}' доступно только для чтения.", name.ru),
            ),
            AddinError::TokenNotSet => lang.pick(
                "The bot token is not set. Set the Token property first (the token comes from @BotFather).".into(),
                "Не задан токен бота. Сначала установите свойство Токен (токен выдаёт @BotFather).".into(),
            ),
            AddinError::Telegram(e) => telegram_text(lang, e),
            AddinError::Localized { en, ru, .. } => lang.pick(en.clone(), ru.clone()),
            AddinError::Internal(detail) => lang.pick(
                format!("Internal error in the Telegram add-in: {detail}. The object is still usable; please report this error."),
                format!("Внутренняя ошибка внешней компоненты Telegram: {detail}. Объект можно использовать дальше; сообщите об этой ошибке разработчикам."),
            ),
            AddinError::FileTooBig { what, size, limit, local } => {
                let (mb, limit_mb) = (*size as f64 / 1048576.0, limit / 1048576);
                let hint_en = if *local { "" } else { " A self-hosted Bot API server (set LocalServer) takes up to 2000 MB." };
                let hint_ru = if *local { "" } else { " Собственный сервер Bot API (свойство ЛокальныйСервер) принимает до 2000 МБ." };
                let (what_en, what_ru) = match what {
                    Oversized::Download => {
                        let hint_en = if *local { "" } else { " A self-hosted Bot API server (set LocalServer) serves files of up to 2000 MB." };
                        let hint_ru = if *local { "" } else { " Собственный сервер Bot API (свойство ЛокальныйСервер) отдаёт файлы до 2000 МБ." };
                        return lang.pick(
                            format!("The file is {mb:.1} MB, over the {limit_mb} MB a bot may download from Telegram; nothing was downloaded.{hint_en}"),
                            format!("Файл: {mb:.1} МБ, больше {limit_mb} МБ, которые бот может скачать из Telegram; ничего не скачано.{hint_ru}"),
                        );
                    }
                    Oversized::File(None) => ("The file".to_owned(), "Файл".to_owned()),
                    Oversized::File(Some(name)) => (format!("The file '{name}'"), format!("Файл '{name}'")),
                    Oversized::Attachments => ("The attached files together".to_owned(), "Приложенные файлы вместе".to_owned()),
                };
                lang.pick(
                    format!("{what_en} is {mb:.1} MB, over Telegram's limit of {limit_mb} MB; nothing was sent.{hint_en}"),
                    format!("{what_ru}: {mb:.1} МБ, больше предела Telegram в {limit_mb} МБ; ничего не отправлено.{hint_ru}"),
                )
            }
            AddinError::CaptionTooLong { len } => lang.pick(
                format!("The caption is {len} characters long; Telegram allows at most 1024. Shorten it or send the text as a separate message."),
                format!("Подпись длиной {len} символов; Telegram допускает не больше 1024. Сократите её или отправьте текст отдельным сообщением."),
            ),
            AddinError::FileUnreadable { path, detail } => {
                let (detail_en, detail_ru) = if detail.is_empty() {
                    ("there is no such file", "такого файла нет")
                } else {
                    (detail.as_str(), detail.as_str())
                };
                lang.pick(
                    format!("Cannot read the file '{path}': {detail_en}. Check the path and the access rights of the 1C process."),
                    format!("Не удалось прочитать файл '{path}': {detail_ru}. Проверьте путь и права доступа процесса 1С."),
                )
            }
            AddinError::CannotSplit { mode } => lang.pick(
                format!("The text is longer than 4096 characters and cannot be split without breaking its {mode} formatting (an entity stays open over 4096 characters, or 'entities' are given). Split it yourself or shorten the formatted part."),
                format!("Текст длиннее 4096 символов, и его нельзя разбить, не нарушив разметку {mode} (элемент разметки открыт на протяжении более 4096 символов или заданы 'entities'). Разбейте текст сами или сократите размеченный фрагмент."),
            ),
            AddinError::PartlySent { sent, total, cause } => lang.pick(
                format!("The long text was sent in part: {sent} of {total} messages went out, then: {}", cause.text(lang)),
                format!("Длинный текст отправлен частично: ушло {sent} из {total} сообщений, затем: {}", cause.text(lang)),
            ),
            AddinError::UnknownMethod(method) => lang.pick(
                format!("The Bot API server does not know the method '{method}' (404). Check the name: Bot API methods are written like sendMessage or getChat."),
                format!("Сервер Bot API не знает метод '{method}' (404). Проверьте имя: методы Bot API пишутся как sendMessage или getChat."),
            ),
            AddinError::LogFile { path, detail } => lang.pick(
                format!("Cannot open the log file '{path}': {detail}. Check the folder exists and the 1C process may write there."),
                format!("Не удалось открыть файл журнала '{path}': {detail}. Проверьте, что каталог существует и процесс 1С может писать в него."),
            ),
            AddinError::TooManyParts { parts, max } => lang.pick(
                format!("The text would be sent as {parts} messages, more than MaxParts ({max}); nothing was sent. Shorten the text, send it as a file (SendFile), or raise MaxParts."),
                format!("Текст ушёл бы {parts} сообщениями, больше МаксимумЧастей ({max}); ничего не отправлено. Сократите текст, отправьте его файлом (ОтправитьФайл) или увеличьте МаксимумЧастей."),
            ),
            AddinError::Path { role, path, error } => {
                let (what_en, what_ru, hint_en, hint_ru) = role.texts();
                lang.pick(
                    format!("{what_en} '{path}' cannot be used: {}. {hint_en}", error.en()),
                    format!("{what_ru} '{path}' нельзя использовать: {}. {hint_ru}", error.ru()),
                )
            }
        }
    }
}

fn invalid_text(lang: Lang, name: &str, why: &Invalid) -> String {
    match why {
        Invalid::BrokenUnicode => lang.pick(
            format!("Parameter '{name}' holds a broken character (a lone UTF-16 surrogate). Check where the text comes from."),
            format!("Параметр '{name}' содержит испорченный символ (одиночный суррогат UTF-16). Проверьте источник текста."),
        ),
        Invalid::Nul => lang.pick(
            format!("Parameter '{name}' holds a NUL character (Символ(0)); remove it."),
            format!("Параметр '{name}' содержит символ NUL (Символ(0)); уберите его."),
        ),
        Invalid::Range { min, max } => lang.pick(
            format!("Parameter '{name}' must be a whole number from {min} to {max}."),
            format!("Параметр '{name}' должен быть целым числом от {min} до {max}."),
        ),
        Invalid::ApiUrl => lang.pick(
            format!("'{name}' must be an address starting with https:// or http://, e.g. https://api.telegram.org."),
            format!("'{name}' должен быть адресом, начинающимся с https:// или http://, например https://api.telegram.org."),
        ),
        Invalid::Proxy => lang.pick(
            format!("'{name}' must be empty or an address like http://host:3128, https://host:443 or socks5://user:password@host:1080."),
            format!("'{name}' должен быть пустым или адресом вида http://host:3128, https://host:443 или socks5://user:password@host:1080."),
        ),
        Invalid::TokenShape => lang.pick(
            format!("'{name}' does not look like a bot token (digits, a colon, then letters and digits, e.g. 123456:ABC-DEF). Copy it from @BotFather."),
            format!("'{name}' не похож на токен бота (цифры, двоеточие, затем буквы и цифры, например 123456:ABC-DEF). Скопируйте его у @BotFather."),
        ),
        Invalid::ChatId => lang.pick(
            format!("Parameter '{name}' must be a chat id (a number such as 123456789 or -1001234567890) or a channel name such as @news."),
            format!("Параметр '{name}' должен быть идентификатором чата (число, например 123456789 или -1001234567890) или именем канала вида @news."),
        ),
        Invalid::JsonObject(detail) => lang.pick(
            format!("Parameter '{name}' must be a JSON object, e.g. {{\"parse_mode\": \"HTML\"}} ({detail})."),
            format!("Параметр '{name}' должен быть JSON-объектом, например {{\"parse_mode\": \"HTML\"}} ({detail})."),
        ),
        Invalid::Other(reason) => lang.pick(
            format!("Parameter '{name}': {reason}."),
            format!("Параметр '{name}': {reason}."),
        ),
    }
}

/// The text of a failed Bot API call, with what it means for delivery.
fn telegram_text(lang: Lang, error: &telegram::Error) -> String {
    let mut text = telegram_base(lang, error);
    text.push_str(delivery_note(lang, error));
    text
}

/// Whether the message may have gone out, for calls that send.
fn delivery_note(lang: Lang, error: &telegram::Error) -> &'static str {
    use telegram::Error as E;
    let method = match error {
        E::Api { method, .. }
        | E::Timeout { method, .. }
        | E::Interrupted { method, .. }
        | E::BadResponse { method, .. } => method.as_str(),
        E::Connect { .. } => "",
        _ => return "",
    };
    if telegram::is_read(method) {
        return "";
    }
    match (ErrorKind::of(error), lang) {
        (ErrorKind::DeliveryUnknown, Lang::En) => " Telegram may have received the request: the message may have been delivered. Check the chat before sending it again; do not resend blindly (LastErrorKind = delivery_unknown).",
        (ErrorKind::DeliveryUnknown, Lang::Ru) => " Запрос мог дойти до Telegram: сообщение могло быть доставлено. Прежде чем отправлять снова, проверьте чат; не повторяйте отправку вслепую (ВидПоследнейОшибки = delivery_unknown).",
        (ErrorKind::NotSent, Lang::En) => " Nothing was sent; the call can be repeated.",
        (ErrorKind::NotSent, Lang::Ru) => " Ничего не отправлено; вызов можно повторить.",
        _ => "",
    }
}

fn telegram_base(lang: Lang, error: &telegram::Error) -> String {
    use telegram::Error as E;
    match error {
        E::Api { method, code: 401, .. } => lang.pick(
            format!("Telegram rejected the bot token ({method}: 401 Unauthorized). Check the Token property; @BotFather shows the current token."),
            format!("Telegram отклонил токен бота ({method}: 401 Unauthorized). Проверьте свойство Токен; действующий токен показывает @BotFather."),
        ),
        E::Api { method, code: 404, description, .. } => lang.pick(
            format!("Telegram answered {method}: 404 {description}. The token is malformed or ApiUrl does not point to a Bot API server."),
            format!("Telegram ответил {method}: 404 {description}. Токен имеет неверный вид, или АдресAPI указывает не на сервер Bot API."),
        ),
        E::Api { method, code: 403, description, .. } if description.contains("blocked") => lang.pick(
            format!("{method}: the user has blocked the bot (403 {description}). The message can be delivered only after the user unblocks the bot."),
            format!("{method}: пользователь заблокировал бота (403 {description}). Доставить сообщение можно, только когда пользователь разблокирует бота."),
        ),
        E::Api { method, code: 400, description, .. } if description.contains("chat not found") => lang.pick(
            format!("{method}: chat not found (400 {description}). The user has not pressed Start in the bot yet, or the chat id is wrong."),
            format!("{method}: чат не найден (400 {description}). Пользователь ещё не нажал «Запустить» в боте, или идентификатор чата неверен."),
        ),
        E::Api { method, code: 429, parameters, .. } => {
            let wait = parameters.retry_after.unwrap_or(1);
            lang.pick(
                format!("{method}: too many requests (429). Telegram asks to wait {wait} s before the next one."),
                format!("{method}: слишком много запросов (429). Telegram просит подождать {wait} с перед следующим."),
            )
        }
        E::Api { method, code: 400, description, .. } if description.contains("message is too long") => lang.pick(
            format!("{method}: the text is too long for Telegram (400 {description}). A message holds at most 4096 characters after formatting."),
            format!("{method}: текст слишком длинный для Telegram (400 {description}). Сообщение вмещает не больше 4096 символов после разметки."),
        ),
        E::Api { method, code: 400, description, .. } if description.contains("caption is too long") => lang.pick(
            format!("{method}: the caption is too long (400 {description}). Telegram allows at most 1024 characters."),
            format!("{method}: подпись слишком длинная (400 {description}). Telegram допускает не больше 1024 символов."),
        ),
        E::Api { method, code: 400, description, .. } if description.contains("file is too big") => lang.pick(
            format!("{method}: the file is too big (400 {description}). Bots download files of up to 20 MB from the cloud API; a self-hosted Bot API server lifts this."),
            format!("{method}: файл слишком большой (400 {description}). Из облачного API боты скачивают файлы до 20 МБ; собственный сервер Bot API снимает это ограничение."),
        ),
        E::Api { method, code: 400, description, .. } if description.contains("failed to get HTTP URL content") || description.contains("wrong file identifier") => lang.pick(
            format!("{method}: Telegram could not take the file (400 {description}). A URL must be publicly reachable by Telegram's servers; a file_id must come from this bot."),
            format!("{method}: Telegram не смог получить файл (400 {description}). URL должен быть доступен серверам Telegram из интернета; file_id должен быть получен этим же ботом."),
        ),
        E::Api { method, code: 400, description, .. } if description.contains("message is not modified") => lang.pick(
            format!("{method}: nothing to change (400 {description}): the new text and keyboard are the same as the old ones."),
            format!("{method}: изменять нечего (400 {description}): новый текст и клавиатура совпадают со старыми."),
        ),
        E::Api { method, code: 400, description, .. } if description.contains("to edit not found") || description.contains("to delete not found") || description.contains("can't be deleted") || description.contains("can't be edited") => lang.pick(
            format!("{method}: the message cannot be found or changed (400 {description}). It may be deleted, too old (48 h), or not sent by this bot."),
            format!("{method}: сообщение не найдено или не может быть изменено (400 {description}). Возможно, оно удалено, слишком старое (48 ч) или отправлено не этим ботом."),
        ),
        E::Api { method, code: 400, description, .. } if description.contains("query is too old") || description.contains("query ID is invalid") => lang.pick(
            format!("{method}: the button press is too old to answer (400 {description}). Answer callback queries within 15 seconds."),
            format!("{method}: на нажатие кнопки уже поздно отвечать (400 {description}). Отвечайте на нажатия в течение 15 секунд."),
        ),
        E::Api { method, code: 400, description, parameters } if parameters.migrate_to_chat_id.is_some() => {
            let to = parameters.migrate_to_chat_id.unwrap_or_default();
            lang.pick(
                format!("{method}: the group became a supergroup with id {to} (400 {description}). Use the new id."),
                format!("{method}: группа преобразована в супергруппу с идентификатором {to} (400 {description}). Используйте новый идентификатор."),
            )
        }
        E::Api { method, code: 403, description, .. } if description.contains("initiate conversation") => lang.pick(
            format!("{method}: the user has never started this bot (403 {description}). A bot may write only to users who pressed Start; send them the bot's link first."),
            format!("{method}: пользователь ещё не запускал этого бота (403 {description}). Бот может писать только тем, кто нажал «Запустить»; сначала отправьте пользователю ссылку на бота."),
        ),
        E::Api { method, code: 403, description, .. } if description.contains("not a member") || description.contains("kicked") => lang.pick(
            format!("{method}: the bot is not in this chat (403 {description}). Add the bot to the group or channel first."),
            format!("{method}: бота нет в этом чате (403 {description}). Сначала добавьте бота в группу или канал."),
        ),
        E::Api { method, code, description, .. } if *code >= 500 => lang.pick(
            format!("{method}: Telegram's server failed ({code} {description}). This is on Telegram's side; try again later."),
            format!("{method}: ошибка на сервере Telegram ({code} {description}). Проблема на стороне Telegram; повторите позже."),
        ),
        E::Api { method, code, description, .. } => lang.pick(
            format!("Telegram refused {method}: {code} {description}."),
            format!("Telegram отклонил {method}: {code} {description}."),
        ),
        E::Connect { host, detail } => lang.pick(
            format!("Cannot connect to {host}: {detail}. Check ApiUrl, Proxy and the network (Telegram may be blocked: set Proxy)."),
            format!("Не удалось подключиться к {host}: {detail}. Проверьте АдресAPI, Прокси и сеть (Telegram может быть заблокирован: задайте Прокси)."),
        ),
        E::Timeout { method, host, seconds, written: true } => lang.pick(
            format!("{method}: no answer from {host} within {seconds} s. Check the network or raise Timeout."),
            format!("{method}: нет ответа от {host} за {seconds} с. Проверьте сеть или увеличьте Таймаут."),
        ),
        E::Timeout { method, host, seconds, written: false } => lang.pick(
            format!("{method}: the request could not be sent to {host} within {seconds} s. Check the network or raise Timeout."),
            format!("{method}: запрос не удалось передать {host} за {seconds} с. Проверьте сеть или увеличьте Таймаут."),
        ),
        E::Interrupted { method, host, detail, written: true } => lang.pick(
            format!("{method}: the connection to {host} was closed before Telegram answered ({detail})."),
            format!("{method}: соединение с {host} закрылось раньше, чем Telegram ответил ({detail})."),
        ),
        E::Interrupted { method, host, detail, written: false } => lang.pick(
            format!("{method}: the connection to {host} broke while the request was being sent ({detail})."),
            format!("{method}: соединение с {host} оборвалось во время передачи запроса ({detail})."),
        ),
        E::Tls { host, detail } => lang.pick(
            format!("Secure connection to {host} failed: {detail}. Check the system certificates; for a company root that is not installed in the system (or a proxy that intercepts HTTPS), set CaFile to its PEM file."),
            format!("Не удалось установить защищённое соединение с {host}: {detail}. Проверьте сертификаты системы; для корневого сертификата организации, не установленного в системе (или прокси, перехватывающего HTTPS), укажите его PEM-файл в свойстве ФайлСертификатовCA."),
        ),
        E::BadResponse { method, status, detail } => lang.pick(
            format!("{method}: the server's answer is not a Bot API answer (HTTP {status}: {detail}). Check ApiUrl and Proxy."),
            format!("{method}: ответ сервера не похож на ответ Bot API (HTTP {status}: {detail}). Проверьте АдресAPI и Прокси."),
        ),
        E::LocalFile { path, detail } => AddinError::FileUnreadable {
            path: path.clone(),
            detail: detail.clone(),
        }
        .text(lang),
        E::Config(ConfigError::ApiUrl(_)) => invalid_text(lang, lang.pick("ApiUrl".into(), "АдресAPI".into()).as_str(), &Invalid::ApiUrl),
        E::Config(ConfigError::CaFile { path, detail }) => lang.pick(
            format!("The CA file '{path}' cannot be used: {detail}. Give a PEM file with the company's root certificate (-----BEGIN CERTIFICATE-----), or leave CaFile empty to use the system's certificates."),
            format!("Файл сертификатов '{path}' нельзя использовать: {detail}. Укажите PEM-файл с корневым сертификатом организации (-----BEGIN CERTIFICATE-----) или оставьте ФайлСертификатовCA пустым, чтобы использовать сертификаты системы."),
        ),
        E::Config(ConfigError::Proxy(_)) => invalid_text(lang, lang.pick("Proxy".into(), "Прокси".into()).as_str(), &Invalid::Proxy),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_codes() {
        assert_eq!(Lang::from_code("ru"), Lang::Ru);
        assert_eq!(Lang::from_code("ru_RU"), Lang::Ru);
        assert_eq!(Lang::from_code("en"), Lang::En);
        assert_eq!(Lang::from_code(""), Lang::En);
    }

    #[test]
    fn wrong_type_names_the_parameter_and_type() {
        let e = AddinError::WrongType {
            name: Name {
                en: "Text",
                ru: "Текст",
            },
            expected: Expected::String,
            got: Got::Number,
        };
        assert!(e.text(Lang::Ru).contains("'Текст'") && e.text(Lang::Ru).contains("Строка"));
        assert!(e.text(Lang::En).contains("'Text'") && e.text(Lang::En).contains("String"));
    }
}
