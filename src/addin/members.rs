//! The `Bot` object's one table of members: English and Russian names,
//! parameters and their defaults. Everything 1C sees is declared here.

/// A property of the object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PropId {
    Version,
    Token,
    ApiUrl,
    Proxy,
    Timeout,
    CaFile,
    LastError,
    LongPollTimeout,
    Polling,
    StateDir,
    WebhookSecret,
    MaxRetries,
    ConnectTimeout,
    LocalServer,
    LogFile,
    LogLevel,
    MigratedChatId,
    LastErrorKind,
    /// Event mode confirms an update only on `ConfirmUpdates` (at-least-once).
    ConfirmEvents,
    /// Most messages one `SendMessage` may split a long text into.
    MaxParts,
    BindingReply,
}

/// A method of the object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MethodId {
    GetMe,
    SendMessage,
    SendFile,
    AddFile,
    CallMethod,
    AnswerCallbackQuery,
    EditMessage,
    DeleteMessage,
    DownloadFile,
    EscapeMarkdown,
    EscapeHtml,
    StartPolling,
    StopPolling,
    GetUpdates,
    ConfirmUpdates,
    SetWebhook,
    DeleteWebhook,
    ParseWebhook,
    /// Debug builds only: tunes backoff and the event buffer depth of receiving.
    #[cfg(debug_assertions)]
    DebugReceiving,
    /// Debug builds only: makes the add-in panic at a chosen entry point.
    #[cfg(debug_assertions)]
    DebugPanic,
    /// Debug builds only: raises one external event through the normal path.
    #[cfg(debug_assertions)]
    DebugEvent,
    NewBindingCode,
    BindingQR,
    BindContact,
    CancelBindingCode,
    Broadcast,
    BroadcastStatus,
    CancelBroadcast,
    SendBatch,
}

/// The part of the object that handles a member: `Bot` forwards every
/// member of a part to that part, so a new member touches this table and its
/// part's handler only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The object itself: version, last error, debug hooks.
    Object,
    /// The Bot API connection: token, address, proxy, timeouts, retries.
    Connection,
    /// The log file.
    Journal,
    /// Sending (`sending.rs`).
    Sending,
    /// Receiving (`receiving.rs`).
    Receiving,
    /// Binding contacts (`binding.rs`).
    Binding,
    /// Broadcasts and batch sending (`delivery.rs`).
    Delivery,
}

/// A property row.
pub struct PropSpec {
    pub id: PropId,
    pub part: Part,
    pub en: &'static str,
    pub ru: &'static str,
    pub readable: bool,
    pub writable: bool,
}

/// The default of an optional parameter, as `GetParamDefValue` gives it.
#[derive(Clone, Copy, Debug)]
pub enum ParamDefault {
    /// `Null` (VTYPE_NULL), read as "left out" (see `Args::get`). Not an
    /// empty variant: OneScript's bridge counts a parameter as optional only
    /// when its default is not empty.
    LeftOut,
}

/// A parameter row.
pub struct ParamSpec {
    pub en: &'static str,
    pub ru: &'static str,
    /// `None` for a required parameter.
    pub default: Option<ParamDefault>,
}

/// A method row.
pub struct MethodSpec {
    pub id: MethodId,
    pub part: Part,
    pub en: &'static str,
    pub ru: &'static str,
    pub params: &'static [ParamSpec],
    pub returns: bool,
}

const fn prop(
    id: PropId,
    part: Part,
    en: &'static str,
    ru: &'static str,
    readable: bool,
    writable: bool,
) -> PropSpec {
    PropSpec {
        id,
        part,
        en,
        ru,
        readable,
        writable,
    }
}

const fn required(en: &'static str, ru: &'static str) -> ParamSpec {
    ParamSpec {
        en,
        ru,
        default: None,
    }
}

const fn optional(en: &'static str, ru: &'static str) -> ParamSpec {
    ParamSpec {
        en,
        ru,
        default: Some(ParamDefault::LeftOut),
    }
}

/// Every property, in the order 1C numbers them.
pub static PROPS: &[PropSpec] = &[
    prop(
        PropId::Version,
        Part::Object,
        "Version",
        "Версия",
        true,
        false,
    ),
    prop(
        PropId::Token,
        Part::Connection,
        "Token",
        "Токен",
        true,
        true,
    ),
    prop(
        PropId::ApiUrl,
        Part::Connection,
        "ApiUrl",
        "АдресAPI",
        true,
        true,
    ),
    prop(
        PropId::Proxy,
        Part::Connection,
        "Proxy",
        "Прокси",
        true,
        true,
    ),
    prop(
        PropId::Timeout,
        Part::Connection,
        "Timeout",
        "Таймаут",
        true,
        true,
    ),
    prop(
        PropId::CaFile,
        Part::Connection,
        "CaFile",
        "ФайлСертификатовCA",
        true,
        true,
    ),
    prop(
        PropId::LastError,
        Part::Object,
        "LastError",
        "ПоследняяОшибка",
        true,
        false,
    ),
    prop(
        PropId::MaxRetries,
        Part::Connection,
        "MaxRetries",
        "МаксимумПовторов",
        true,
        true,
    ),
    prop(
        PropId::ConnectTimeout,
        Part::Connection,
        "ConnectTimeout",
        "ТаймаутПодключения",
        true,
        true,
    ),
    prop(
        PropId::LocalServer,
        Part::Sending,
        "LocalServer",
        "ЛокальныйСервер",
        true,
        true,
    ),
    prop(
        PropId::LogFile,
        Part::Journal,
        "LogFile",
        "ФайлЖурнала",
        true,
        true,
    ),
    prop(
        PropId::LogLevel,
        Part::Journal,
        "LogLevel",
        "УровеньЖурнала",
        true,
        true,
    ),
    prop(
        PropId::MigratedChatId,
        Part::Sending,
        "MigratedChatId",
        "НовыйИдЧата",
        true,
        false,
    ),
    prop(
        PropId::LongPollTimeout,
        Part::Receiving,
        "LongPollTimeout",
        "ТаймаутОжидания",
        true,
        true,
    ),
    prop(
        PropId::Polling,
        Part::Receiving,
        "Polling",
        "ПолучениеЗапущено",
        true,
        false,
    ),
    prop(
        PropId::StateDir,
        Part::Receiving,
        "StateDir",
        "КаталогСостояния",
        true,
        true,
    ),
    prop(
        PropId::WebhookSecret,
        Part::Receiving,
        "WebhookSecret",
        "СекретWebhook",
        true,
        true,
    ),
    prop(
        PropId::LastErrorKind,
        Part::Object,
        "LastErrorKind",
        "ВидПоследнейОшибки",
        true,
        false,
    ),
    prop(
        PropId::ConfirmEvents,
        Part::Receiving,
        "ConfirmEvents",
        "ПодтверждатьСобытия",
        true,
        true,
    ),
    prop(
        PropId::MaxParts,
        Part::Sending,
        "MaxParts",
        "МаксимумЧастей",
        true,
        true,
    ),
    prop(
        PropId::BindingReply,
        Part::Binding,
        "BindingReply",
        "ОтветПриПривязке",
        true,
        true,
    ),
];

/// Every method, in the order 1C numbers them.
pub static METHODS: &[MethodSpec] = &[
    MethodSpec {
        id: MethodId::GetMe,
        part: Part::Connection,
        en: "GetMe",
        ru: "ПолучитьИнформациюБота",
        params: &[],
        returns: true,
    },
    MethodSpec {
        id: MethodId::SendMessage,
        part: Part::Sending,
        en: "SendMessage",
        ru: "ОтправитьСообщение",
        params: &[
            required("ChatId", "ИдЧата"),
            required("Text", "Текст"),
            optional("Options", "Параметры"),
        ],
        returns: true,
    },
    MethodSpec {
        id: MethodId::SendFile,
        part: Part::Sending,
        en: "SendFile",
        ru: "ОтправитьФайл",
        params: &[
            required("ChatId", "ИдЧата"),
            required("File", "Файл"),
            optional("FileName", "ИмяФайла"),
            optional("Options", "Параметры"),
        ],
        returns: true,
    },
    MethodSpec {
        id: MethodId::AddFile,
        part: Part::Sending,
        en: "AddFile",
        ru: "ДобавитьФайл",
        params: &[
            required("Name", "Имя"),
            required("File", "Файл"),
            optional("FileName", "ИмяФайла"),
        ],
        returns: true,
    },
    MethodSpec {
        id: MethodId::CallMethod,
        part: Part::Sending,
        en: "CallMethod",
        ru: "ВызватьМетод",
        params: &[required("Method", "Метод"), optional("Params", "Параметры")],
        returns: true,
    },
    MethodSpec {
        id: MethodId::AnswerCallbackQuery,
        part: Part::Sending,
        en: "AnswerCallbackQuery",
        ru: "ОтветитьНаНажатие",
        params: &[
            required("CallbackQueryId", "ИдНажатия"),
            optional("Text", "Текст"),
            optional("ShowAlert", "ПоказатьПредупреждение"),
        ],
        returns: true,
    },
    MethodSpec {
        id: MethodId::EditMessage,
        part: Part::Sending,
        en: "EditMessage",
        ru: "ИзменитьСообщение",
        params: &[
            required("ChatId", "ИдЧата"),
            required("MessageId", "ИдСообщения"),
            optional("Text", "Текст"),
            optional("Options", "Параметры"),
        ],
        returns: true,
    },
    MethodSpec {
        id: MethodId::DeleteMessage,
        part: Part::Sending,
        en: "DeleteMessage",
        ru: "УдалитьСообщение",
        params: &[
            required("ChatId", "ИдЧата"),
            required("MessageId", "ИдСообщения"),
        ],
        returns: true,
    },
    MethodSpec {
        id: MethodId::DownloadFile,
        part: Part::Sending,
        en: "DownloadFile",
        ru: "СкачатьФайл",
        params: &[required("FileId", "ИдФайла"), optional("Folder", "Каталог")],
        returns: true,
    },
    MethodSpec {
        id: MethodId::EscapeMarkdown,
        part: Part::Sending,
        en: "EscapeMarkdown",
        ru: "ЭкранироватьMarkdown",
        params: &[required("Text", "Текст")],
        returns: true,
    },
    MethodSpec {
        id: MethodId::EscapeHtml,
        part: Part::Sending,
        en: "EscapeHtml",
        ru: "ЭкранироватьHTML",
        params: &[required("Text", "Текст")],
        returns: true,
    },
    MethodSpec {
        id: MethodId::StartPolling,
        part: Part::Receiving,
        en: "StartPolling",
        ru: "НачатьПолучение",
        params: &[optional("AllowedUpdates", "ТипыОбновлений")],
        returns: true,
    },
    MethodSpec {
        id: MethodId::StopPolling,
        part: Part::Receiving,
        en: "StopPolling",
        ru: "ОстановитьПолучение",
        params: &[],
        returns: true,
    },
    MethodSpec {
        id: MethodId::GetUpdates,
        part: Part::Receiving,
        en: "GetUpdates",
        ru: "ПолучитьОбновления",
        params: &[
            optional("WaitSeconds", "СекундОжидания"),
            optional("Limit", "Лимит"),
        ],
        returns: true,
    },
    MethodSpec {
        id: MethodId::ConfirmUpdates,
        part: Part::Receiving,
        en: "ConfirmUpdates",
        ru: "ПодтвердитьОбновления",
        params: &[required("UpdateId", "ИдОбновления")],
        returns: true,
    },
    MethodSpec {
        id: MethodId::SetWebhook,
        part: Part::Receiving,
        en: "SetWebhook",
        ru: "УстановитьWebhook",
        params: &[
            required("Url", "Адрес"),
            optional("Secret", "Секрет"),
            optional("Options", "Параметры"),
        ],
        returns: true,
    },
    MethodSpec {
        id: MethodId::DeleteWebhook,
        part: Part::Receiving,
        en: "DeleteWebhook",
        ru: "УдалитьWebhook",
        params: &[optional("DropPending", "УдалитьОжидающие")],
        returns: true,
    },
    MethodSpec {
        id: MethodId::ParseWebhook,
        part: Part::Receiving,
        en: "ParseWebhook",
        ru: "РазобратьWebhook",
        params: &[
            required("Body", "Тело"),
            required("SecretHeader", "ЗаголовокСекрета"),
        ],
        returns: true,
    },
    #[cfg(debug_assertions)]
    MethodSpec {
        id: MethodId::DebugReceiving,
        part: Part::Receiving,
        en: "DebugReceiving",
        ru: "ОтладкаПолучения",
        params: &[required("Options", "Параметры")],
        returns: true,
    },
    #[cfg(debug_assertions)]
    MethodSpec {
        id: MethodId::DebugPanic,
        part: Part::Object,
        en: "DebugPanic",
        ru: "ОтладкаПаника",
        params: &[required("Where", "Где")],
        returns: false,
    },
    #[cfg(debug_assertions)]
    MethodSpec {
        id: MethodId::DebugEvent,
        part: Part::Object,
        en: "DebugEvent",
        ru: "ОтладкаСобытие",
        params: &[required("Message", "Сообщение"), optional("Data", "Данные")],
        returns: true,
    },
    MethodSpec {
        id: MethodId::NewBindingCode,
        part: Part::Binding,
        en: "NewBindingCode",
        ru: "НовыйКодПривязки",
        params: &[
            optional("Subject", "Предмет"),
            optional("TTLSeconds", "СрокДействияСекунд"),
        ],
        returns: true,
    },
    MethodSpec {
        id: MethodId::BindingQR,
        part: Part::Binding,
        en: "BindingQR",
        ru: "QRКодПривязки",
        params: &[
            required("CodeOrLink", "КодИлиСсылка"),
            optional("Size", "Размер"),
        ],
        returns: true,
    },
    MethodSpec {
        id: MethodId::BindContact,
        part: Part::Binding,
        en: "BindContact",
        ru: "ПривязатьКонтакт",
        params: &[
            required("Code", "Код"),
            optional("WaitSeconds", "СекундОжидания"),
        ],
        returns: true,
    },
    MethodSpec {
        id: MethodId::CancelBindingCode,
        part: Part::Binding,
        en: "CancelBindingCode",
        ru: "ОтменитьКодПривязки",
        params: &[required("Code", "Код")],
        returns: true,
    },
    MethodSpec {
        id: MethodId::Broadcast,
        part: Part::Delivery,
        en: "Broadcast",
        ru: "Рассылка",
        params: &[
            required("Recipients", "Получатели"),
            required("Message", "Сообщение"),
            optional("Options", "Параметры"),
        ],
        returns: true,
    },
    MethodSpec {
        id: MethodId::BroadcastStatus,
        part: Part::Delivery,
        en: "BroadcastStatus",
        ru: "СостояниеРассылки",
        params: &[
            required("Id", "Ид"),
            optional("WaitSeconds", "СекундОжидания"),
        ],
        returns: true,
    },
    MethodSpec {
        id: MethodId::CancelBroadcast,
        part: Part::Delivery,
        en: "CancelBroadcast",
        ru: "ОтменитьРассылку",
        params: &[required("Id", "Ид")],
        returns: true,
    },
    MethodSpec {
        id: MethodId::SendBatch,
        part: Part::Delivery,
        en: "SendBatch",
        ru: "ОтправитьПакет",
        params: &[
            required("Requests", "Запросы"),
            optional("Options", "Параметры"),
        ],
        returns: true,
    },
];

/// Finds a row by either name, ignoring letter case (Cyrillic included).
/// Compares without allocating.
pub fn find<T>(rows: &[T], name: &str, names: impl Fn(&T) -> [&'static str; 2]) -> Option<usize> {
    rows.iter()
        .position(|row| names(row).iter().any(|n| same_name(n, name)))
}

/// Whether two names are equal ignoring letter case (any alphabet), without allocating.
fn same_name(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// The name for alias 0 (English) or 1 (Russian).
pub fn alias_name(en: &'static str, ru: &'static str, alias: usize) -> Option<&'static str> {
    match alias {
        0 => Some(en),
        1 => Some(ru),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_in_both_languages() {
        let mut seen = std::collections::HashSet::new();
        for (en, ru) in PROPS
            .iter()
            .map(|p| (p.en, p.ru))
            .chain(METHODS.iter().map(|m| (m.en, m.ru)))
        {
            assert!(seen.insert(en.to_lowercase()), "{en}");
            assert!(seen.insert(ru.to_lowercase()), "{ru}");
        }
    }

    #[test]
    fn finds_cyrillic_in_any_case() {
        let names = |p: &PropSpec| [p.en, p.ru];
        let row = |id: PropId| PROPS.iter().position(|p| p.id == id);
        assert_eq!(find(PROPS, "ТОКЕН", names), row(PropId::Token));
        assert_eq!(find(PROPS, "адресapi", names), row(PropId::ApiUrl));
        assert_eq!(find(PROPS, "lasterror", names), row(PropId::LastError));
        assert_eq!(
            find(PROPS, "ФайлСертификатовca", names),
            row(PropId::CaFile)
        );
        assert_eq!(find(PROPS, "nothing", names), None);
        assert_eq!(find(PROPS, "ТОКЕ", names), None);
        assert_eq!(find(PROPS, "Токенн", names), None);
        assert!(same_name("ЁЖИК", "ёжик") && !same_name("ёжик", "ежик"));
        assert!(same_name("Token", "tOKEN") && !same_name("Token", "Toke"));
    }

    #[test]
    fn optional_parameters_come_last() {
        for m in METHODS {
            let first_optional = m
                .params
                .iter()
                .position(|p| p.default.is_some())
                .unwrap_or(m.params.len());
            assert!(
                m.params[first_optional..]
                    .iter()
                    .all(|p| p.default.is_some()),
                "{}",
                m.en
            );
        }
    }
}
