//! The head-office dashboard as a browser speaks to it: forms, cookies, the sign-in page.

use anyhow::{Context, Result, ensure};
use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use reqwest::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};

use crate::server::http_client;

/// `application/x-www-form-urlencoded`, as a browser posts a form.
pub fn form(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn client() -> Result<Client> {
    Ok(http_client()
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

pub fn set_cookie(res: &Response, name: &str) -> Option<String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

pub fn cookie_value(set: &str) -> String {
    set.split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_owned())
        .unwrap_or_default()
}

pub fn hidden_csrf(html: &str) -> Result<String> {
    let at = html
        .find("name=\"csrf\" value=\"")
        .context("a csrf field")?
        + 19;
    Ok(html[at..].split('"').next().unwrap_or_default().to_owned())
}

/// The sign-in page's CSRF cookie and the same token from its form.
pub fn login_page(c: &Client, url: &str) -> Result<(String, String)> {
    let res = c.get(format!("{url}/login")).send()?;
    ensure!(res.status() == StatusCode::OK);
    let cookie = cookie_value(&set_cookie(&res, "onsite_login_csrf").context("csrf cookie")?);
    let form = hidden_csrf(&res.text()?)?;
    Ok((cookie, form))
}

/// Posts the sign-in form with the sign-in page's cookie and token.
pub fn login(
    c: &Client,
    url: &str,
    cookie: &str,
    csrf: &str,
    email: &str,
    password: &str,
) -> Result<Response> {
    Ok(c.post(format!("{url}/login"))
        .header(COOKIE, format!("onsite_login_csrf={cookie}"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form(&[
            ("email", email),
            ("password", password),
            ("csrf", csrf),
        ]))
        .send()?)
}
