//! The filter language's parser: text → [`Query`], or an error with the line and column of the
//! mistake and what to write instead.
//!
//! ```text
//! filter  := or
//! or      := and ("or" and)*
//! and     := unary (["and"] unary)*        adjacent terms are joined by `and`
//! unary   := "not" unary | primary
//! primary := "(" or ")" | term
//! term    := NAME ":" VALUE | NAME (">"|">="|"<"|"<=") NUMBER | "quoted text" | WORD
//! VALUE   := WORD | "quoted" | PREFIX* | *
//! ```

use super::{CompareOp, FieldName, Number, Pattern, Query};
use std::fmt;

/// Deepest nesting of parentheses and `not` accepted (keeps the parser's stack small on hostile input).
pub const MAX_DEPTH: usize = 64;

/// A mistake in a filter, with where it is (1-based line and column, in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub message: String,
    pub line: usize,
    pub column: usize,
    /// Byte offset of the mistake in the filter text.
    pub offset: usize,
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for QueryError {}

/// The line and column (1-based, in characters) of a byte offset in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    And,
    Or,
    Not,
    /// A bare word (may hold `:`, `>`… : terms are split by the parser).
    Word(String),
    Quoted(String),
    /// `name:"quoted value"`.
    FieldQuoted(String, String),
}

/// Splits the text into tokens with their byte offsets.
fn tokenize(text: &str) -> Result<Vec<(Token, usize)>, (String, usize)> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(at, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                tokens.push((Token::Open, at));
            }
            ')' => {
                chars.next();
                tokens.push((Token::Close, at));
            }
            '"' => {
                chars.next();
                tokens.push((Token::Quoted(quoted(&mut chars, at)?), at));
            }
            _ => {
                let mut word = String::new();
                while let Some(&(_, c)) = chars.peek() {
                    if c.is_whitespace() || c == '(' || c == ')' || c == '"' {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                // `name:"value with spaces"`
                if word.ends_with(':') && chars.peek().is_some_and(|(_, c)| *c == '"') {
                    let (quote_at, _) = chars.next().unwrap_or((at, '"'));
                    let value = quoted(&mut chars, quote_at)?;
                    word.pop();
                    tokens.push((Token::FieldQuoted(word, value), at));
                    continue;
                }
                let token = match word.to_ascii_lowercase().as_str() {
                    "and" | "&&" => Token::And,
                    "or" | "||" => Token::Or,
                    "not" | "!" => Token::Not,
                    _ => Token::Word(word),
                };
                tokens.push((token, at));
            }
        }
    }
    Ok(tokens)
}

/// Reads a quoted string after its opening quote; `\"` and `\\` are escapes.
fn quoted(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>, start: usize) -> Result<String, (String, usize)> {
    let mut out = String::new();
    loop {
        match chars.next() {
            None => return Err(("this quote is never closed: add a `\"` at the end of the text".into(), start)),
            Some((_, '"')) => return Ok(out),
            Some((_, '\\')) => match chars.next() {
                Some((_, c)) => out.push(c),
                None => return Err(("this quote is never closed: add a `\"` at the end of the text".into(), start)),
            },
            Some((_, c)) => out.push(c),
        }
    }
}

struct Parser<'t> {
    text: &'t str,
    tokens: Vec<(Token, usize)>,
    at: usize,
    depth: usize,
}

/// Parses a filter.
pub fn parse(text: &str) -> Result<Query, QueryError> {
    let error = |message: String, offset: usize| {
        let (line, column) = line_column(text, offset);
        QueryError { message, line, column, offset }
    };
    let tokens = tokenize(text).map_err(|(m, at)| error(m, at))?;
    if tokens.is_empty() {
        return Err(error("the filter is empty: write a term such as `error_code:MODEL_*`".into(), 0));
    }
    let mut parser = Parser { text, tokens, at: 0, depth: 0 };
    let query = parser.or().map_err(|(m, at)| error(m, at))?;
    if let Some((token, at)) = parser.tokens.get(parser.at) {
        let what = match token {
            Token::Close => "a `)` with no `(` before it".to_string(),
            _ => "unexpected text".to_string(),
        };
        return Err(error(what, *at));
    }
    Ok(query)
}

type Step<T> = Result<T, (String, usize)>;

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|(t, _)| t)
    }

    fn offset(&self) -> usize {
        self.tokens.get(self.at).map_or(self.text.len(), |(_, at)| *at)
    }

    fn or(&mut self) -> Step<Query> {
        let mut parts = vec![self.and()?];
        while self.peek() == Some(&Token::Or) {
            self.at += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Query::Or(parts) })
    }

    fn and(&mut self) -> Step<Query> {
        let mut parts = vec![self.unary()?];
        loop {
            match self.peek() {
                Some(Token::And) => {
                    self.at += 1;
                    parts.push(self.unary()?);
                }
                Some(Token::Or | Token::Close) | None => break,
                Some(_) => parts.push(self.unary()?),
            }
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Query::And(parts) })
    }

    fn deeper(&mut self) -> Step<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err((
                format!("nested too deep (more than {MAX_DEPTH} levels of parentheses or `not`)"),
                self.offset(),
            ));
        }
        Ok(())
    }

    fn unary(&mut self) -> Step<Query> {
        if self.peek() == Some(&Token::Not) {
            self.at += 1;
            self.deeper()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Query::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Step<Query> {
        let at = self.offset();
        let Some((token, _)) = self.tokens.get(self.at).cloned() else {
            return Err(("the filter ends too early: a term is missing here".into(), at));
        };
        self.at += 1;
        match token {
            Token::Open => {
                self.deeper()?;
                let inner = self.or()?;
                self.depth -= 1;
                if self.peek() != Some(&Token::Close) {
                    return Err(("this `(` is never closed: add a `)`".into(), at));
                }
                self.at += 1;
                Ok(inner)
            }
            Token::Close => Err(("a term is missing before this `)`".into(), at)),
            Token::And | Token::Or => {
                Err(("a term is missing before this operator (`and`/`or` join two terms)".into(), at))
            }
            Token::Not => Err(("`not` needs a term after it".into(), at)),
            Token::Quoted(text) => Ok(Query::Text(text)),
            Token::FieldQuoted(name, value) => {
                let field = field_name(&name, at)?;
                Ok(Query::Field { field, pattern: Pattern::Exact(value) })
            }
            Token::Word(word) => term(&word, at),
        }
    }
}

fn field_name(name: &str, at: usize) -> Step<FieldName> {
    let ok = !name.is_empty()
        && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '@' | '-'))
        && !name.starts_with('-');
    if !ok {
        return Err((format!("`{name}` is not a field name (letters, digits, `_`, `.`, `@`, `-`)"), at));
    }
    Ok(FieldName::from_name(name))
}

/// One bare word: `name:value`, `name>number`, or free text.
fn term(word: &str, at: usize) -> Step<Query> {
    let comparison = word.find(['>', '<']);
    let colon = word.find(':');
    match (colon, comparison) {
        (Some(c), cmp) if cmp.is_none_or(|x| c < x) => {
            let field = field_name(&word[..c], at)?;
            let value = &word[c + 1..];
            let value_at = at + c + 1;
            if let Some(rest) = value.strip_prefix(['>', '<']) {
                // `field:>3s`, as Kibana writes it
                let op_len = 1 + usize::from(rest.starts_with('='));
                let op = compare_op(&value[..op_len]);
                return comparison_term(field, op, &value[op_len..], value_at + op_len);
            }
            Ok(Query::Field { field, pattern: pattern(value, value_at)? })
        }
        (_, Some(x)) => {
            let field = field_name(&word[..x], at)?;
            let op_len = 1 + usize::from(word[x + 1..].starts_with('='));
            let op = compare_op(&word[x..x + op_len]);
            comparison_term(field, op, &word[x + op_len..], at + x + op_len)
        }
        _ => {
            if word.contains('*') {
                return Err((
                    format!("`{word}`: a `*` needs a field (`error_code:{word}`); for free text, quote it"),
                    at,
                ));
            }
            Ok(Query::Text(word.to_string()))
        }
    }
}

fn compare_op(op: &str) -> CompareOp {
    match op {
        ">=" => CompareOp::GreaterOrEqual,
        "<" => CompareOp::Less,
        "<=" => CompareOp::LessOrEqual,
        _ => CompareOp::Greater,
    }
}

fn comparison_term(field: FieldName, op: CompareOp, value: &str, at: usize) -> Step<Query> {
    if value.is_empty() {
        return Err((format!("a number is missing after `{}` (e.g. `inference_time>3s`)", op.as_str()), at));
    }
    match Number::parse(value) {
        Some(value) => Ok(Query::Compare { field, op, value }),
        None => Err((format!("`{value}` is not a number with a unit (3s, 250ms, 2m, 30GiB, 90%, 12)"), at)),
    }
}

fn pattern(value: &str, at: usize) -> Step<Pattern> {
    if value.is_empty() {
        return Err(("a value is missing after `:` (e.g. `error_code:MODEL_*`, or `field:*` for present)".into(), at));
    }
    if value == "*" {
        return Ok(Pattern::Present);
    }
    match value.find('*') {
        None => Ok(Pattern::Exact(value.to_string())),
        Some(i) if i == value.len() - 1 => Ok(Pattern::Prefix(value[..i].to_string())),
        Some(i) => Err((format!("`{value}`: only a trailing `*` is supported (a prefix, like `MODEL_*`)"), at + i)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::Unit;
    use super::*;

    fn field(name: &str, value: &str) -> Query {
        Query::Field { field: FieldName::from_name(name), pattern: Pattern::Exact(value.into()) }
    }

    #[test]
    fn terms_and_operators() {
        assert_eq!(parse("level:ERROR").unwrap(), field("level", "ERROR"));
        assert_eq!(
            parse("error_code:MODEL_*").unwrap(),
            Query::Field { field: FieldName::ErrorCode, pattern: Pattern::Prefix("MODEL_".into()) }
        );
        assert_eq!(
            parse("inference_time>3s").unwrap(),
            Query::Compare {
                field: FieldName::Latency,
                op: CompareOp::Greater,
                value: Number { value: 3000.0, unit: Unit::Duration }
            }
        );
        assert_eq!(
            parse("gpu_mem:>=30GiB").unwrap(),
            Query::Compare {
                field: FieldName::GpuMem,
                op: CompareOp::GreaterOrEqual,
                value: Number { value: 30.0 * 1024.0 * 1024.0 * 1024.0, unit: Unit::Bytes }
            }
        );
        assert_eq!(
            parse("a:1 b:2 or not (c:3 and \"out of memory\")").unwrap(),
            Query::Or(vec![
                Query::And(vec![field("a", "1"), field("b", "2")]),
                Query::Not(Box::new(Query::And(vec![field("c", "3"), Query::Text("out of memory".into())]))),
            ])
        );
        assert_eq!(parse("message:\"a b\"").unwrap(), field("message", "a b"));
        assert_eq!(parse("timeout").unwrap(), Query::Text("timeout".into()));
    }

    #[test]
    fn mistakes_say_where_and_what() {
        let e = parse("level:ERROR and (code:X").unwrap_err();
        assert_eq!((e.line, e.column), (1, 17), "{e}");
        assert!(e.message.contains("never closed"), "{e}");
        let e = parse("level:ERROR\nand inference_time>fast").unwrap_err();
        assert_eq!((e.line, e.column), (2, 20), "{e}");
        assert!(e.message.contains("not a number"), "{e}");
        let e = parse("code:MO*DEL").unwrap_err();
        assert_eq!(e.column, 8, "{e}");
        for bad in ["", "and", "a:1 or", "not", ")", "(a:1))", "\"open", "code:", "x>", "MODEL_*", "=:1"] {
            assert!(parse(bad).is_err(), "{bad:?} should be refused");
        }
        let deep = "(".repeat(200) + "a:1" + &")".repeat(200);
        assert!(parse(&deep).unwrap_err().message.contains("nested too deep"));
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_errors_point_inside(text in "\\PC{0,40}") {
            if let Err(e) = parse(&text) {
                proptest::prop_assert!(e.offset <= text.len());
                proptest::prop_assert!(e.line >= 1 && e.column >= 1);
            }
        }

        #[test]
        fn printed_filters_parse_back_the_same(
            names in proptest::collection::vec("[a-z_]{1,8}", 1..5),
            values in proptest::collection::vec("[A-Za-z0-9_]{1,8}", 1..5),
            joins in proptest::collection::vec(0u8..3, 5),
        ) {
            let mut text = String::new();
            let mut terms = Vec::new();
            for (i, (n, v)) in names.iter().zip(&values).enumerate() {
                if i > 0 {
                    text.push_str(match joins[i] { 0 => " and ", 1 => " ", _ => " or " });
                }
                text.push_str(&format!("{n}:{v}"));
                terms.push(field(n, v));
            }
            let query = parse(&text).unwrap();
            let printed = query.to_string();
            proptest::prop_assert_eq!(parse(&printed).unwrap(), query);
        }
    }
}
