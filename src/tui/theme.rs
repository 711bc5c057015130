//! Themes: colour roles loaded from TOML (`themes/*.toml`, built in, or a file path), and a
//! colourless theme when `NO_COLOR` is set.

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::str::FromStr;

const BUILTIN: [(&str, &str); 4] = [
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    ("high-contrast", include_str!("../../themes/high-contrast.toml")),
    ("solarized", include_str!("../../themes/solarized.toml")),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: String,
    text: String,
    dim: String,
    accent: String,
    good: String,
    warn: String,
    bad: String,
    critical: String,
    selection_fg: String,
    selection_bg: String,
    header_fg: String,
    header_bg: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    pub text: Style,
    pub dim: Style,
    pub accent: Style,
    pub good: Style,
    pub warn: Style,
    pub bad: Style,
    pub critical: Style,
    pub selection: Style,
    pub header: Style,
    pub colored: bool,
}

fn color(s: &str, what: &str) -> Result<Color, String> {
    Color::from_str(s).map_err(|_| format!("theme: `{what}` = `{s}` is not a colour name or #rrggbb"))
}

impl Theme {
    pub fn parse(text: &str) -> Result<Theme, String> {
        let f: ThemeFile = toml::from_str(text).map_err(|e| format!("theme: {}", e.to_string().trim()))?;
        let fg = |s: &str, what: &str| color(s, what).map(|c| Style::default().fg(c));
        Ok(Theme {
            name: f.name,
            text: fg(&f.text, "text")?,
            dim: fg(&f.dim, "dim")?,
            accent: fg(&f.accent, "accent")?,
            good: fg(&f.good, "good")?,
            warn: fg(&f.warn, "warn")?,
            bad: fg(&f.bad, "bad")?,
            critical: fg(&f.critical, "critical")?.add_modifier(Modifier::BOLD),
            selection: Style::default()
                .fg(color(&f.selection_fg, "selection_fg")?)
                .bg(color(&f.selection_bg, "selection_bg")?),
            header: Style::default().fg(color(&f.header_fg, "header_fg")?).bg(color(&f.header_bg, "header_bg")?),
            colored: true,
        })
    }

    /// No colours at all (`NO_COLOR`): emphasis by modifiers only.
    pub fn monochrome() -> Theme {
        let plain = Style::default();
        Theme {
            name: "no-color".into(),
            text: plain,
            dim: plain.add_modifier(Modifier::DIM),
            accent: plain.add_modifier(Modifier::BOLD),
            good: plain,
            warn: plain.add_modifier(Modifier::BOLD),
            bad: plain.add_modifier(Modifier::BOLD),
            critical: plain.add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            selection: plain.add_modifier(Modifier::REVERSED),
            header: plain.add_modifier(Modifier::REVERSED),
            colored: false,
        }
    }

    /// A built-in theme by name, or a theme file by path; `NO_COLOR` wins over both.
    pub fn load(name_or_path: &str) -> Result<Theme, String> {
        if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            return Ok(Theme::monochrome());
        }
        if let Some((_, text)) = BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
            return Theme::parse(text);
        }
        let text = std::fs::read_to_string(name_or_path).map_err(|e| {
            format!("theme `{name_or_path}`: not a built-in theme (dark, light, high-contrast, solarized) and not a readable file ({e})")
        })?;
        Theme::parse(&text)
    }

    pub fn builtin_names() -> Vec<&'static str> {
        BUILTIN.iter().map(|(n, _)| *n).collect()
    }

    /// Style for a health score band.
    pub fn score(&self, score: f64) -> Style {
        if score >= 90.0 {
            self.good
        } else if score >= 70.0 {
            self.warn
        } else if score >= 40.0 {
            self.bad
        } else {
            self.critical
        }
    }

    pub fn level(&self, level: crate::event::Level) -> Style {
        use crate::event::Level::*;
        match level {
            Trace | Debug => self.dim,
            Info => self.text,
            Warn => self.warn,
            Error => self.bad,
            Fatal => self.critical,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_themes_parse() {
        for (name, text) in BUILTIN {
            let theme = Theme::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(theme.name, name);
        }
        assert!(Theme::parse("name = \"x\"").is_err());
    }
}
