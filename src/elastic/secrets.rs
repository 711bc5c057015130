//! Keeping the cluster's secrets out of sight: URLs that carry a credential (`user:pass@`, or a
//! query or fragment parameter such as `api_key=`, `token=`, `password=`) are refused and named
//! without it, and any text a server sends back is stripped of the credential in use before it is
//! shown or logged (a server may echo the `Authorization` header in an error reason).

use super::{AUTH_HINT, Auth, EsError};
use secrecy::ExposeSecret;

/// What stands in for a removed secret.
pub const REDACTED: &str = "[redacted]";

/// Query or fragment parameter names that carry a secret.
fn secret_parameter(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["key", "token", "pass", "pwd", "secret", "auth", "signature", "credential"].iter().any(|w| name.contains(w))
}

/// The parts of a URL: before the authority (`scheme://`), the user info (without `@`), the rest
/// of the authority and path, the query and the fragment (without `?` and `#`).
struct Parts<'a> {
    scheme: &'a str,
    user_info: Option<&'a str>,
    host_and_path: &'a str,
    query: Option<&'a str>,
    fragment: Option<&'a str>,
}

fn split(url: &str) -> Parts<'_> {
    let (rest, fragment) = match url.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (url, None),
    };
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let (scheme, rest) = match rest.find("://") {
        Some(i) => rest.split_at(i + 3),
        None => ("", rest),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (user_info, host_and_path) = match rest[..authority_end].rfind('@') {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    Parts { scheme, user_info, host_and_path, query, fragment }
}

fn secret_pairs(params: Option<&str>) -> Vec<&str> {
    params
        .into_iter()
        .flat_map(|p| p.split(['&', ';']))
        .filter_map(|pair| {
            let name = pair.split_once('=').map_or(pair, |(n, _)| n);
            (!name.is_empty() && secret_parameter(name)).then_some(name)
        })
        .collect()
}

/// What in `url` is a credential, in words; `None` when it holds none.
pub fn url_credentials(url: &str) -> Option<String> {
    let parts = split(url);
    let mut found = Vec::new();
    if parts.user_info.is_some_and(|u| !u.is_empty()) {
        found.push("a user name or password".to_string());
    }
    for name in secret_pairs(parts.query).into_iter().chain(secret_pairs(parts.fragment)) {
        found.push(format!("the parameter `{}`", crate::text::sanitize_owned(name, 40)));
    }
    (!found.is_empty()).then(|| found.join(" and "))
}

fn redact_params(params: &str) -> String {
    params
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if secret_parameter(name) => format!("{name}={REDACTED}"),
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A URL for messages: any user name and password taken out, secret parameters' values replaced.
pub fn redact_url(url: &str) -> String {
    let parts = split(url);
    let mut out = format!("{}{}", parts.scheme, parts.host_and_path);
    if let Some(q) = parts.query {
        out.push('?');
        out.push_str(&redact_params(q));
    }
    if let Some(f) = parts.fragment {
        out.push('#');
        out.push_str(&redact_params(f));
    }
    out
}

/// Refuses a URL that carries a credential, naming it without the credential. `what` says where
/// it came from (`--es`, `kibana_url`).
pub fn refuse_credentials(what: &str, url: &str) -> Result<(), String> {
    match url_credentials(url) {
        Some(found) => Err(format!(
            "{what} `{}` holds {found}: credentials in a URL would show in the process list, the config and on \
             screen; use {AUTH_HINT} or --es-prompt",
            redact_url(url)
        )),
        None => Ok(()),
    }
}

/// Every cluster URL must be http(s) and hold no credential.
pub fn check_urls(urls: &[String]) -> Result<(), EsError> {
    for url in urls {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(EsError::Config(format!("`{}` is not an http(s) URL", redact_url(url))));
        }
        refuse_credentials("the cluster URL", url).map_err(EsError::Config)?;
    }
    Ok(())
}

/// Every form in which the credential in use could come back in a server's text: the whole
/// `Authorization` value, the secret itself, and for basic authentication `user:password` and
/// its base64.
#[derive(Clone, Default)]
pub struct Redactor {
    forms: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} forms)", self.forms.len())
    }
}

impl Redactor {
    pub fn new(auth: &Auth) -> Redactor {
        use base64::Engine;
        let mut forms = Vec::new();
        match auth {
            Auth::None => {}
            Auth::ApiKey(key) => forms.push(key.expose_secret().to_string()),
            Auth::Bearer(token) => forms.push(token.expose_secret().to_string()),
            Auth::Basic { user, password } => {
                let pair = format!("{user}:{}", password.expose_secret());
                forms.push(base64::engine::general_purpose::STANDARD.encode(&pair));
                forms.push(pair);
                forms.push(password.expose_secret().to_string());
            }
        }
        // JSON escapes `/` in some servers' answers: a base64 secret may come back as `\/`
        let escaped: Vec<String> = forms.iter().filter(|f| f.contains('/')).map(|f| f.replace('/', "\\/")).collect();
        forms.extend(escaped);
        forms.retain(|f| !f.is_empty());
        // longest first, so that a secret inside a longer form goes with it
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        forms.dedup();
        Redactor { forms }
    }

    /// `text` with every form of the credential replaced by [`REDACTED`].
    pub fn clean(&self, text: &str) -> String {
        let mut out = text.to_string();
        for form in &self.forms {
            if out.contains(form.as_str()) {
                out = out.replace(form.as_str(), REDACTED);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use secrecy::SecretString;

    #[test]
    fn credentials_in_urls_are_found_and_named_without_them() {
        assert_eq!(url_credentials("http://127.0.0.1:9200"), None);
        assert_eq!(url_credentials("https://es.example.com/?pretty=true"), None);
        assert!(url_credentials("http://alice:pw@127.0.0.1:9").is_some());
        let found = url_credentials("http://h:9/?api_key=X1&pretty").expect("found");
        assert!(found.contains("`api_key`"), "{found}");
        assert!(url_credentials("https://kibana/app#access_token=T").is_some());
        assert!(url_credentials("http://h/?Password=1").is_some());
        assert_eq!(
            redact_url("http://alice:pw@h:9/p?api_key=X1&pretty=1#t"),
            "http://h:9/p?api_key=[redacted]&pretty=1#t"
        );
        assert_eq!(redact_url("http://h:9"), "http://h:9");
    }

    #[test]
    fn every_form_of_the_credential_is_stripped() {
        use base64::Engine;
        let auth = Auth::Basic { user: "alice".into(), password: SecretString::from("pw-9/x".to_string()) };
        let r = Redactor::new(&auth);
        let b64 = base64::engine::general_purpose::STANDARD.encode("alice:pw-9/x");
        let text = format!("bad header [Basic {b64}] alice:pw-9/x and pw-9\\/x");
        let clean = r.clean(&text);
        assert!(!clean.contains(&b64) && !clean.contains("pw-9"), "{clean}");
        let r = Redactor::new(&Auth::ApiKey(SecretString::from("k3y".to_string())));
        assert_eq!(r.clean("Authorization: ApiKey k3y"), "Authorization: ApiKey [redacted]");
        assert_eq!(Redactor::new(&Auth::None).clean("x"), "x");
    }

    proptest! {
        #[test]
        fn a_redacted_url_holds_no_secret_parameter_value(
            host in "[a-z]{1,5}", secret in "[A-Za-z0-9]{6,20}", name in "(api_key|token|password|apiKey)"
        ) {
            let url = format!("https://u:{secret}@{host}:9200/?{name}={secret}#x");
            prop_assert!(url_credentials(&url).is_some());
            prop_assert!(!redact_url(&url).contains(&secret));
        }

        #[test]
        fn redacting_never_panics(url in ".*") {
            let _ = redact_url(&url);
            let _ = url_credentials(&url);
        }
    }
}
