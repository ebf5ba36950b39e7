//! The CSV exports, as downloads.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::{ConferencePage, failed, not_found};
use crate::App;
use crate::export::Export;
use crate::storage::Store;

/// A CSV export, as a download.
pub(super) async fn export<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
    Path((_, file)): Path<(String, String)>,
) -> Response {
    let Some(which) = Export::from_file_name(&file) else {
        return not_found("No such export", &conf.session);
    };
    let id = conf.id;
    match app
        .store
        .read(move |tx| crate::export::write(tx, id, which))
        .await
    {
        Ok(bytes) => {
            let mut res = bytes.into_response();
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            if let Ok(v) =
                HeaderValue::from_str(&format!("attachment; filename=\"{}\"", which.file_name()))
            {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => failed(e),
    }
}
