//! The head-office dashboard over HTTP: sign-in with a hashed password, the session cookie,
//! CSRF on every form, and an overview whose numbers match what desks pushed.

use anyhow::{Context, Result, ensure};
use onsite_desk_core::CheckInRequest;
use onsite_shared::ids::ConferenceId;
use onsite_tests::desk::LocalDesk;
use onsite_tests::server::{TempDir, TestServer, http_client, server_command};
use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, ORIGIN, SET_COOKIE};

const DEMO: ConferenceId = ConferenceId::from_u128(0x01930000_0000_7000_8000_000000000001);
const EMAIL: &str = "office@example.com";
const PASSWORD: &str = "a long enough password";

/// `application/x-www-form-urlencoded`, as a browser posts a form.
fn form(pairs: &[(&str, &str)]) -> String {
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

fn client() -> Result<Client> {
    Ok(http_client()
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

fn set_cookie(res: &Response, name: &str) -> Option<String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

fn cookie_value(set: &str) -> String {
    set.split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_owned())
        .unwrap_or_default()
}

fn hidden_csrf(html: &str) -> Result<String> {
    let at = html
        .find("name=\"csrf\" value=\"")
        .context("a csrf field")?
        + 19;
    Ok(html[at..].split('"').next().unwrap_or_default().to_owned())
}

/// The sign-in page's CSRF cookie and the same token from its form.
fn login_page(c: &Client, url: &str) -> Result<(String, String)> {
    let res = c.get(format!("{url}/login")).send()?;
    ensure!(res.status() == StatusCode::OK);
    let cookie = cookie_value(&set_cookie(&res, "onsite_login_csrf").context("csrf cookie")?);
    let form = hidden_csrf(&res.text()?)?;
    Ok((cookie, form))
}

fn login(c: &Client, url: &str, cookie: &str, csrf: &str, password: &str) -> Result<Response> {
    Ok(c.post(format!("{url}/login"))
        .header(COOKIE, format!("onsite_login_csrf={cookie}"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form(&[
            ("email", EMAIL),
            ("password", password),
            ("csrf", csrf),
        ]))
        .send()?)
}

#[test]
fn head_office_signs_in_sees_what_desks_pushed_and_forged_or_anonymous_requests_are_refused()
-> Result<()> {
    let dir = TempDir::new("dashboard")?;
    server_command(dir.path(), None, &["demo", "--attendees", "40"])?;
    server_command(
        dir.path(),
        None,
        &["user", "add", "--email", EMAIL, "--password", PASSWORD],
    )?;
    let server = TestServer::start(dir.path())?;
    let url = server.url.clone();
    let c = client()?;

    // No session: every page sends the browser to the sign-in page.
    for path in ["/", &format!("/conferences/{DEMO}")] {
        let res = c.get(format!("{url}{path}")).send()?;
        ensure!(
            res.status() == StatusCode::SEE_OTHER,
            "{path}: {}",
            res.status()
        );
        ensure!(res.headers()[LOCATION] == "/login");
    }

    // A wrong password: 401, the form again, no session.
    let (cookie, csrf) = login_page(&c, &url)?;
    ensure!(cookie == csrf && cookie.len() == 64);
    let res = login(&c, &url, &cookie, &csrf, "not the password at all")?;
    ensure!(res.status() == StatusCode::UNAUTHORIZED);
    ensure!(set_cookie(&res, "onsite_session").is_none());
    ensure!(res.text()?.contains("Wrong email or password"));

    // The right password without the sign-in page's token, or from another site: refused.
    let (cookie, csrf) = login_page(&c, &url)?;
    let forged = login(&c, &url, "some-other-token", &csrf, PASSWORD)?;
    ensure!(
        forged.status() == StatusCode::FORBIDDEN && set_cookie(&forged, "onsite_session").is_none()
    );
    let cross = c
        .post(format!("{url}/login"))
        .header(COOKIE, format!("onsite_login_csrf={cookie}"))
        .header(ORIGIN, "http://evil.example")
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form(&[
            ("email", EMAIL),
            ("password", PASSWORD),
            ("csrf", &csrf),
        ]))
        .send()?;
    ensure!(cross.status() == StatusCode::FORBIDDEN);

    // Signed in: an HttpOnly, SameSite=Strict session cookie.
    let res = login(&c, &url, &cookie, &csrf, PASSWORD)?;
    ensure!(res.status() == StatusCode::SEE_OTHER, "{}", res.status());
    let set = set_cookie(&res, "onsite_session").context("session cookie")?;
    ensure!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let session = format!("onsite_session={}", cookie_value(&set));

    // A desk checks two people in; the overview shows what the head-office API shows.
    let desk = LocalDesk::enrol(&server, DEMO, "North", dir.path())?;
    desk.sync()?;
    for e in desk.search("a")?.into_iter().filter(|e| e.admits).take(2) {
        desk.check_in(&CheckInRequest {
            code: e.code.to_string(),
            gate: Some("north".into()),
            override_reason: None,
        })?;
    }
    desk.sync()?;
    let index = c.get(format!("{url}/")).header(COOKIE, &session).send()?;
    ensure!(index.status() == StatusCode::OK);
    let index = index.text()?;
    ensure!(index.contains(&format!("/conferences/{DEMO}")), "{index}");
    let page = c
        .get(format!("{url}/conferences/{DEMO}"))
        .header(COOKIE, &session)
        .send()?;
    ensure!(page.status() == StatusCode::OK);
    let csp = page.headers()["content-security-policy"]
        .to_str()?
        .to_owned();
    ensure!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let page = page.text()?;
    let api = server.admin(
        reqwest::Method::GET,
        &format!("/v1/conferences/{DEMO}/admissions"),
        None,
    )?;
    ensure!(api["admitted"] == 2);
    let expected = format!(
        "data-admitted=\"{}\" data-expected=\"{}\"",
        api["admitted"], api["expected"]
    );
    ensure!(page.contains(&expected), "{expected} not in the overview");
    ensure!(
        page.contains("<td>north</td><td class=\"n\">2</td>"),
        "gate row"
    );
    ensure!(
        page.contains("data-count=\"2\""),
        "the arrivals chart has the two admissions"
    );

    // Signing out needs the session's own token.
    let bad = c
        .post(format!("{url}/logout"))
        .header(COOKIE, &session)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form(&[("csrf", "forged")]))
        .send()?;
    ensure!(bad.status() == StatusCode::FORBIDDEN);
    let still = c.get(format!("{url}/")).header(COOKIE, &session).send()?;
    ensure!(
        still.status() == StatusCode::OK,
        "a forged sign-out changed nothing"
    );
    let token = hidden_csrf(&page)?;
    let out = c
        .post(format!("{url}/logout"))
        .header(COOKIE, &session)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form(&[("csrf", token.as_str())]))
        .send()?;
    ensure!(out.status() == StatusCode::SEE_OTHER);
    let after = c.get(format!("{url}/")).header(COOKIE, &session).send()?;
    ensure!(after.status() == StatusCode::SEE_OTHER, "the session ended");
    Ok(())
}
