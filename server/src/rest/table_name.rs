//! The `{table}` path segment of `/rest/v1/{table}`. axum's own `Path` refuses a segment that
//! is not UTF-8 with a plain-text 400; here such a name is decoded lossily and becomes a table
//! that does not exist (404 `42P01`), in PostgREST's shape like every other answer.

use std::convert::Infallible;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use percent_encoding::percent_decode_str;

pub struct TableName(pub String);

impl<S: Send + Sync> FromRequestParts<S> for TableName {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<TableName, Infallible> {
        if let Ok(Path(name)) = Path::<String>::from_request_parts(parts, state).await {
            return Ok(TableName(name));
        }
        let raw = parts.uri.path().rsplit('/').next().unwrap_or_default();
        Ok(TableName(
            percent_decode_str(raw).decode_utf8_lossy().into_owned(),
        ))
    }
}
