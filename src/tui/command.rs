//! The console's command line (`:`), read without any screen: a typed text becomes a [`Command`]
//! or a message saying what was not understood and what exists; [`complete`] finishes a word from
//! what the console has seen. Nothing here panics, whatever the text (property-tested).

use crate::backend::range::{Bound, TIME_SYNTAX, parse_bound};
use crate::event::Level;

/// What a command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// The drill-down of a video or request id (`:video ID`, or a bare `vid_…` / `req_…`).
    Open(String),
    /// Only lines and videos with this error code (`None`: every code).
    Code(Option<String>),
    /// Only lines of this component (`None`: every component).
    Component(Option<String>),
    /// Only lines at this level or above (`None`: every level).
    Level(Option<Level>),
    /// The range starts here (`:since`).
    Since(Bound),
    /// The range ends here (`:until`).
    Until(Bound),
    /// Both ends (`:range FROM TO`).
    Range(Bound, Bound),
    /// The last this many milliseconds (`:last 30m`).
    Last(i64),
    /// Every event (`:all`).
    All,
    Theme(String),
    Help,
    Quit,
    /// Only tail lines that match a filter in the query language (`None`: every line).
    Filter(Option<String>),
    /// Drops the code, component, level and query filters (`:clear`).
    Clear,
    /// The lines whose time cannot be right: in the future (`:suspect`), or before 1990
    /// (`:suspect past`).
    Suspect {
        past: bool,
    },
    /// The Patterns screen compares the range with this baseline (`None`: the same length just
    /// before the range).
    Baseline(Option<(Bound, Bound)>),
}

/// The command words, with what each takes (help and the unknown-command message list them).
pub const COMMANDS: [(&str, &str); 16] = [
    ("video", "ID: the drill-down of a video or request id (a bare vid_… or req_… too)"),
    ("code", "CODE: the tail and the lists filtered to an error code (no CODE: all)"),
    ("component", "NAME: the tail filtered to a component (no NAME: all)"),
    (
        "filter",
        "QUERY: the tail filtered by the query language: error_code:MODEL_* and inference_time>3s (no QUERY: all)",
    ),
    ("level", "LEVEL: the tail from this level up: trace debug info warn error fatal (no LEVEL: all)"),
    ("since", "TIME: the range starts at TIME (2025-09-01 14:00:00, or 30m back from the newest data)"),
    ("until", "TIME: the range ends at TIME"),
    ("range", "FROM TO: an absolute range (FROM..TO also works)"),
    ("last", "DURATION: the last 30m, 2h, 1d before the newest data"),
    ("all", "every event"),
    ("theme", "NAME: dark, light, high-contrast, solarized, or a theme file"),
    ("help", "every key and command"),
    ("q", "quit"),
    ("clear", "drop the :code, :component, :level and :filter filters"),
    ("baseline", "FROM TO: what the patterns screen compares the range with (alone: the same length just before)"),
    ("suspect", "the lines timed in the future, left out of every window (past: those dated before 1990)"),
];

/// Reads one command line (without its `:`); times are in the zone `offset` seconds east when
/// they name none. The error is a sentence for the status line.
pub fn parse(text: &str, offset: i64) -> Result<Command, String> {
    let text = text.trim();
    let (word, rest) = match text.split_once(char::is_whitespace) {
        Some((w, r)) => (w, r.trim()),
        None => (text, ""),
    };
    if word.is_empty() {
        return Err(format!("an empty command; {}", known()));
    }
    if rest.is_empty() && is_id(word) {
        return Ok(Command::Open(word.to_string()));
    }
    let name = resolve(word).ok_or_else(|| format!("unknown command `{}`; {}", shown(word), known()))?;
    let arg = |what: &str| -> Result<String, String> {
        if rest.is_empty() { Err(format!(":{name} expects {what}")) } else { Ok(rest.to_string()) }
    };
    let optional = || (!rest.is_empty()).then(|| rest.to_string());
    let time = |text: &str| {
        parse_bound(text, offset).ok_or_else(|| format!(":{name} `{}`: expected {TIME_SYNTAX}", shown(text)))
    };
    Ok(match name {
        "video" => Command::Open(arg("a video or request id (vid_…, req_…)")?),
        "code" => Command::Code(optional()),
        "component" => Command::Component(optional()),
        "filter" => match optional() {
            None => Command::Filter(None),
            Some(q) => match crate::query::parse::parse(&q) {
                Ok(_) => Command::Filter(Some(q)),
                Err(e) => {
                    return Err(format!(":filter `{}`: column {}: {}", shown(&q), e.column, e.message));
                }
            },
        },
        "level" => match optional() {
            None => Command::Level(None),
            Some(l) => Command::Level(Some(Level::parse(&l).ok_or_else(|| {
                format!(":level `{}`: expected trace, debug, info, warn, error or fatal", shown(&l))
            })?)),
        },
        "since" => Command::Since(time(&arg("a time")?)?),
        "until" => Command::Until(time(&arg("a time")?)?),
        "range" => {
            let (from, to) = split_range(rest, offset).ok_or_else(|| {
                format!(
                    ":range `{}`: expected FROM TO, each {TIME_SYNTAX}; e.g. :range 2025-09-01T14:00:00Z \
                     2025-09-01T14:30:00Z",
                    shown(rest)
                )
            })?;
            Command::Range(from, to)
        }
        "last" => {
            let text = arg("a duration (30m, 2h, 1d)")?;
            match crate::alerts::parse_window(&text) {
                Some(ms) => Command::Last(ms),
                None => return Err(format!(":last `{}`: expected a duration (30m, 2h, 1d)", shown(&text))),
            }
        }
        "all" => Command::All,
        "baseline" if rest.is_empty() => Command::Baseline(None),
        "baseline" => {
            let (from, to) = split_range(rest, offset)
                .ok_or_else(|| format!(":baseline `{}`: expected FROM TO, each {TIME_SYNTAX}", shown(rest)))?;
            Command::Baseline(Some((from, to)))
        }
        "theme" => Command::Theme(arg("a theme name (dark, light, high-contrast, solarized)")?),
        "help" => Command::Help,
        "q" => Command::Quit,
        "clear" => Command::Clear,
        "suspect" => match rest {
            "" | "future" => Command::Suspect { past: false },
            "past" => Command::Suspect { past: true },
            other => return Err(format!(":suspect `{}`: expected nothing, future or past", shown(other))),
        },
        _ => return Err(format!("unknown command `{}`; {}", shown(word), known())),
    })
}

/// True for a bare id typed after `:` (`vid_…`, `req_…`).
pub fn is_id(word: &str) -> bool {
    (word.starts_with("vid_") || word.starts_with("req_")) && word.len() > 4
}

/// The command a word names: itself, an alias (`quit`, `v`), or the one command it begins.
fn resolve(word: &str) -> Option<&'static str> {
    let word = word.to_ascii_lowercase();
    let alias = match word.as_str() {
        "quit" | "q!" | "exit" => Some("q"),
        "v" | "open" | "request" | "req" | "vid" => Some("video"),
        "comp" => Some("component"),
        "from" => Some("since"),
        "to" => Some("until"),
        "h" | "?" => Some("help"),
        _ => None,
    };
    if alias.is_some() {
        return alias;
    }
    if let Some((name, _)) = COMMANDS.iter().find(|(n, _)| *n == word) {
        return Some(name);
    }
    let mut starting = COMMANDS.iter().filter(|(n, _)| n.starts_with(word.as_str()));
    match (starting.next(), starting.next()) {
        (Some((name, _)), None) if word.len() >= 2 => Some(name),
        _ => None,
    }
}

/// The commands that exist, for a message.
fn known() -> String {
    let names: Vec<&str> = COMMANDS.iter().map(|(n, _)| *n).collect();
    format!("commands: {} (or a bare vid_… / req_…)", names.join(", "))
}

/// Outside text in a message: terminal-safe and short.
fn shown(text: &str) -> String {
    crate::text::sanitize_owned(text, 60)
}

/// `FROM TO` of `:range`: `A..B`, `A to B`, two words, or two `date time` pairs (quotes allowed).
fn split_range(rest: &str, offset: i64) -> Option<(Bound, Bound)> {
    let both = |a: &str, b: &str| Some((parse_bound(unquote(a), offset)?, parse_bound(unquote(b), offset)?));
    for separator in ["..", " to ", " – ", " - "] {
        if let Some((a, b)) = rest.split_once(separator)
            && let Some(found) = both(a, b)
        {
            return Some(found);
        }
    }
    if let Some(found) = quoted_pair(rest).and_then(|(a, b)| both(&a, &b)) {
        return Some(found);
    }
    let words: Vec<&str> = rest.split_whitespace().collect();
    let join = |w: &[&str]| w.join(" ");
    match words.len() {
        2 => both(words[0], words[1]),
        3 => both(&join(&words[..2]), words[2]).or_else(|| both(words[0], &join(&words[1..]))),
        4 => both(&join(&words[..2]), &join(&words[2..])),
        _ => None,
    }
}

fn unquote(text: &str) -> &str {
    text.trim().trim_matches(|c| c == '"' || c == '\'')
}

/// `"a b" "c d"` → (`a b`, `c d`).
fn quoted_pair(text: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = text.split('"').map(str::trim).filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        [a, b] if text.contains('"') => Some((a.to_string(), b.to_string())),
        _ => None,
    }
}

/// What Tab can complete from: what the console has seen.
#[derive(Debug, Default, Clone)]
pub struct Seen<'a> {
    pub ids: Vec<&'a str>,
    pub codes: Vec<&'a str>,
    pub components: Vec<&'a str>,
    pub themes: Vec<&'a str>,
}

/// Completes the last word of `text`: a command name, or the argument of `:video`, `:code`,
/// `:component`, `:level`, `:theme` (a bare `vid_`/`req_` from the ids). Returns the new text
/// (the longest common beginning of the candidates) and the candidates (sorted, unique).
pub fn complete(text: &str, seen: &Seen) -> (String, Vec<String>) {
    let split = text.char_indices().rev().find(|(_, c)| c.is_whitespace()).map(|(i, c)| i + c.len_utf8());
    let (head, last) = text.split_at(split.unwrap_or(0));
    let command = head.split_whitespace().next();
    let levels: Vec<&str> = vec!["trace", "debug", "info", "warn", "error", "fatal"];
    let names: Vec<&str> = COMMANDS.iter().map(|(n, _)| *n).collect();
    let pool: Vec<&str> = match command.map(resolve) {
        None if is_id_prefix(last) => seen.ids.clone(),
        None => names,
        Some(Some("video")) => seen.ids.clone(),
        Some(Some("code")) => seen.codes.clone(),
        Some(Some("component")) => seen.components.clone(),
        Some(Some("level")) => levels,
        Some(Some("theme")) => seen.themes.clone(),
        _ => Vec::new(),
    };
    let lower = last.to_lowercase();
    let mut candidates: Vec<String> =
        pool.into_iter().filter(|c| c.to_lowercase().starts_with(&lower)).map(str::to_string).collect();
    candidates.sort();
    candidates.dedup();
    let common = common_prefix(&candidates);
    let completed = match candidates.as_slice() {
        [] => text.to_string(),
        [one] if command.is_none() && !is_id_prefix(last) => format!("{head}{one} "),
        [one] => format!("{head}{one}"),
        _ if common.chars().count() > last.chars().count() => format!("{head}{common}"),
        _ => text.to_string(),
    };
    (completed, candidates)
}

fn is_id_prefix(word: &str) -> bool {
    word.starts_with("vid_") || word.starts_with("req_")
}

fn common_prefix(words: &[String]) -> String {
    let Some(first) = words.first() else { return String::new() };
    let mut common: Vec<char> = first.chars().collect();
    for w in &words[1..] {
        let same = common.iter().zip(w.chars()).take_while(|(a, b)| **a == *b).count();
        common.truncate(same);
    }
    common.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_756_735_200_000; // 2025-09-01 14:00:00 UTC

    #[test]
    fn every_command_reads() {
        assert_eq!(parse("video vid_7a3b9c", 0), Ok(Command::Open("vid_7a3b9c".into())));
        assert_eq!(parse("vid_7a3b9c", 0), Ok(Command::Open("vid_7a3b9c".into())));
        assert_eq!(parse("  req_2ae111cc ", 0), Ok(Command::Open("req_2ae111cc".into())));
        assert_eq!(parse("code MODEL_INFER_FAIL", 0), Ok(Command::Code(Some("MODEL_INFER_FAIL".into()))));
        assert_eq!(parse("code", 0), Ok(Command::Code(None)));
        assert_eq!(parse("component model_inference", 0), Ok(Command::Component(Some("model_inference".into()))));
        assert_eq!(parse("comp ffmpeg", 0), Ok(Command::Component(Some("ffmpeg".into()))));
        assert_eq!(parse("level warn", 0), Ok(Command::Level(Some(Level::Warn))));
        assert_eq!(parse("since 30m", 0), Ok(Command::Since(Bound::Ago(1_800_000))));
        assert_eq!(parse("until 2025-09-01 14:00:00", 0), Ok(Command::Until(Bound::At(T))));
        assert_eq!(parse("last 2h", 0), Ok(Command::Last(7_200_000)));
        assert_eq!(parse("all", 0), Ok(Command::All));
        assert_eq!(parse("theme light", 0), Ok(Command::Theme("light".into())));
        assert_eq!(parse("help", 0), Ok(Command::Help));
        assert_eq!(parse("q", 0), Ok(Command::Quit));
        assert_eq!(parse("quit", 0), Ok(Command::Quit));
        assert_eq!(parse("clear", 0), Ok(Command::Clear));
        assert_eq!(parse("suspect", 0), Ok(Command::Suspect { past: false }));
        assert_eq!(parse("suspect past", 0), Ok(Command::Suspect { past: true }));
        assert!(parse("suspect soon", 0).unwrap_err().contains("expected nothing, future or past"));
    }

    #[test]
    fn a_range_reads_in_every_usual_shape() {
        let want = Ok(Command::Range(Bound::At(T), Bound::At(T + 1_800_000)));
        assert_eq!(parse("range 2025-09-01T14:00:00Z 2025-09-01T14:30:00Z", 0), want);
        assert_eq!(parse("range 2025-09-01T14:00:00Z..2025-09-01T14:30:00Z", 0), want);
        assert_eq!(parse("range 2025-09-01 14:00:00 2025-09-01 14:30:00", 0), want);
        assert_eq!(parse("range \"2025-09-01 14:00:00\" \"2025-09-01 14:30:00\"", 0), want);
        assert_eq!(parse("range 2025-09-01 14:00:00 to 2025-09-01 14:30:00", 0), want);
        assert_eq!(parse("range 2h 1h", 0), Ok(Command::Range(Bound::Ago(7_200_000), Bound::Ago(3_600_000))));
    }

    #[test]
    fn mistakes_say_what_was_expected_and_what_exists() {
        let e = parse("frobnicate now", 0).expect_err("unknown");
        assert!(e.contains("unknown command `frobnicate`") && e.contains("video, code, component"), "{e}");
        let e = parse("since yesterday", 0).expect_err("bad time");
        assert!(e.contains(":since `yesterday`: expected a time (2025-09-01T14:00:00Z"), "{e}");
        let e = parse("range 14:00", 0).expect_err("bad range");
        assert!(e.contains(":range `14:00`: expected FROM TO"), "{e}");
        let e = parse("level loud", 0).expect_err("bad level");
        assert!(e.contains("expected trace, debug, info, warn, error or fatal"), "{e}");
        let e = parse("video", 0).expect_err("no id");
        assert!(e.contains(":video expects a video or request id"), "{e}");
        let e = parse("last soon", 0).expect_err("bad duration");
        assert!(e.contains(":last `soon`: expected a duration"), "{e}");
        assert!(parse("", 0).expect_err("empty").contains("commands:"));
        let e = parse("\u{1b}[31mred", 0).expect_err("escape");
        assert!(!e.contains('\u{1b}'), "outside text is made safe: {e:?}");
    }

    #[test]
    fn tab_completes_commands_ids_codes_and_components() {
        let seen = Seen {
            ids: vec!["vid_7a3b9c", "vid_7a0000", "req_2ae111cc"],
            codes: vec!["MODEL_INFER_FAIL", "MODEL_LOAD_FAIL", "VIDEO_DECODE_FAIL"],
            components: vec!["model_inference", "ffmpeg"],
            themes: vec!["dark", "light"],
        };
        assert_eq!(complete("vi", &seen).0, "video ");
        assert_eq!(complete("video vid_7a3", &seen).0, "video vid_7a3b9c");
        let (text, candidates) = complete("vid_7a", &seen);
        assert_eq!((text.as_str(), candidates.len()), ("vid_7a", 2), "two ids begin so: listed");
        assert_eq!(complete("req_", &seen).0, "req_2ae111cc");
        assert_eq!(complete("code MODEL_", &seen).0, "code MODEL_");
        assert_eq!(complete("code MODEL_I", &seen).0, "code MODEL_INFER_FAIL");
        assert_eq!(complete("component ff", &seen).0, "component ffmpeg");
        assert_eq!(complete("level wa", &seen).0, "level warn");
        assert_eq!(complete("theme l", &seen).0, "theme light");
        assert_eq!(complete("zzz", &seen), ("zzz".to_string(), Vec::new()));
    }

    proptest::proptest! {
        #[test]
        fn no_text_makes_it_panic(text in "\\PC{0,60}", offset in -50_000i64..50_000) {
            let _ = parse(&text, offset);
            let seen = Seen { ids: vec!["vid_a"], codes: vec!["X"], components: vec!["c"], themes: vec!["dark"] };
            let _ = complete(&text, &seen);
        }

        #[test]
        fn any_bytes_as_text_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80)) {
            let text = String::from_utf8_lossy(&bytes);
            let _ = parse(&text, 0);
            let _ = complete(&text, &Seen::default());
        }
    }
}
