//! `/rest/v1/<table>`: the PostgREST subset supabase-js uses. Reads go through [`Db::select`],
//! writes through the one [`crate::db::Writer`]; both ask the authorization layer.

pub use crate::rest_error as error;
pub mod query;
mod rpc;
mod table_name;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value};

use crate::authz::Principal;
use crate::client_ip::ClientIp;
use crate::credentials::Credentials;
use crate::db::{ColumnDef, ReadQuery, Row, Table};
use crate::state::AppState;
use error::RestError;
use query::{Prefer, parse_prefer, parse_query, parse_range};
use table_name::TableName;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
const OBJECT_MEDIA: &str = "application/vnd.pgrst.object+json";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/rest/v1/{table}",
            get(read).post(create).patch(update).delete(remove),
        )
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .merge(rpc::router())
}

/// The request body, with axum's plain-text rejections (too large, unreadable) turned into
/// PostgREST's error body, so every error a client sees from `/rest/v1` has one shape.
pub struct Body(pub Bytes);

impl<S: Send + Sync> axum::extract::FromRequest<S> for Body {
    type Rejection = RestError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, RestError> {
        Bytes::from_request(req, state)
            .await
            .map(Body)
            .map_err(|e| {
                let status = e.status();
                let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
                    "PGRST413"
                } else {
                    "PGRST102"
                };
                RestError::new(status, code, e.body_text())
            })
    }
}

fn table(name: &str) -> Result<Table, RestError> {
    Table::parse(name).ok_or_else(|| {
        RestError::new(
            StatusCode::NOT_FOUND,
            "42P01",
            format!(
                "relation \"public.{}\" does not exist",
                error::truncate(name)
            ),
        )
    })
}

/// Everything a REST request carries, parsed.
struct Request {
    table: Table,
    principal: Principal,
    query: ReadQuery,
    prefer: Prefer,
    want_object: bool,
}

fn parse_request(
    state: &AppState,
    creds: &Credentials,
    name: &str,
    headers: &HeaderMap,
    raw: Option<String>,
) -> Result<Request, RestError> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let principal = creds.principal(&state.keys)?;
    let table = table(name)?;
    let mut query = parse_query(table, &pairs)?;
    let prefer = parse_prefer(
        headers
            .get_all("prefer")
            .iter()
            .filter_map(|v| v.to_str().ok()),
    );
    query.count = prefer.count_exact;
    let want_object = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains(OBJECT_MEDIA));
    Ok(Request {
        table,
        principal,
        query,
        prefer,
        want_object,
    })
}

fn project(rows: Vec<Row>, cols: &[&'static ColumnDef]) -> Vec<Row> {
    if cols.is_empty() {
        return rows;
    }
    rows.into_iter()
        .map(|mut r| {
            let mut m = Map::with_capacity(cols.len());
            for c in cols {
                m.insert(c.name.to_owned(), r.remove(c.name).unwrap_or(Value::Null));
            }
            m
        })
        .collect()
}

/// The JSON body: an array, or with `Accept: application/vnd.pgrst.object+json` exactly one object.
fn body(rows: Vec<Row>, want_object: bool) -> Result<(Vec<u8>, &'static str), RestError> {
    if want_object {
        if rows.len() != 1 {
            return Err(RestError::new(
                StatusCode::NOT_ACCEPTABLE,
                "PGRST116",
                "JSON object requested, multiple (or no) rows returned",
            )
            .details(format!("The result contains {} rows", rows.len())));
        }
        let obj = rows
            .into_iter()
            .next()
            .map(Value::Object)
            .unwrap_or(Value::Null);
        return Ok((
            serde_json::to_vec(&obj).unwrap_or_default(),
            "application/vnd.pgrst.object+json; charset=utf-8",
        ));
    }
    let arr = Value::Array(rows.into_iter().map(Value::Object).collect());
    Ok((
        serde_json::to_vec(&arr).unwrap_or_default(),
        "application/json; charset=utf-8",
    ))
}

fn respond(
    status: StatusCode,
    bytes: Vec<u8>,
    content_type: &'static str,
    content_range: Option<String>,
) -> Response {
    let mut r = (status, bytes).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Some(cr) = content_range.and_then(|c| HeaderValue::from_str(&c).ok()) {
        r.headers_mut().insert(header::CONTENT_RANGE, cr);
    }
    r
}

async fn read(
    State(state): State<AppState>,
    TableName(name): TableName,
    creds: Credentials,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, RestError> {
    let mut req = parse_request(&state, &creds, &name, &headers, raw.clone())?;
    let has_limit = raw.as_deref().is_some_and(|q| {
        form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "limit" || k == "offset")
    });
    if !has_limit
        && let Some((offset, limit)) = headers
            .get(header::RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_range)
    {
        req.query.offset = offset;
        req.query.limit = limit;
    }
    let offset = req.query.offset;
    let selected = state
        .db
        .select(&req.principal, req.table, req.query)
        .await
        .map_err(|e| RestError::from_db(e, &req.principal))?;
    let total = selected
        .total
        .map(|t| t.to_string())
        .unwrap_or_else(|| "*".into());
    let range = if selected.rows.is_empty() {
        format!("*/{total}")
    } else {
        format!(
            "{}-{}/{total}",
            offset,
            offset + selected.rows.len() as u64 - 1
        )
    };
    let (bytes, ct) = body(selected.rows, req.want_object)?;
    Ok(respond(StatusCode::OK, bytes, ct, Some(range)))
}

fn parse_rows(body: &Bytes) -> Result<Vec<Row>, RestError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| RestError::bad_json(e.to_string()))?;
    match v {
        Value::Object(m) => Ok(vec![m]),
        Value::Array(items) => items
            .into_iter()
            .map(|i| match i {
                Value::Object(m) => Ok(m),
                _ => Err(RestError::bad_json("expected an array of JSON objects")),
            })
            .collect(),
        _ => Err(RestError::bad_json(
            "expected a JSON object or an array of objects",
        )),
    }
}

/// Answers a write: the affected rows with `return=representation`, else no body.
fn write_response(req: &Request, rows: Vec<Row>, created: bool) -> Result<Response, RestError> {
    if req.prefer.representation {
        let rows = project(rows, &req.query.columns);
        let status = if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        let (bytes, ct) = body(rows, req.want_object)?;
        Ok(respond(status, bytes, ct, Some("*/*".into())))
    } else {
        let status = if created {
            StatusCode::CREATED
        } else {
            StatusCode::NO_CONTENT
        };
        let mut r = status.into_response();
        r.headers_mut()
            .insert(header::CONTENT_RANGE, HeaderValue::from_static("*/*"));
        Ok(r)
    }
}

async fn create(
    State(state): State<AppState>,
    TableName(name): TableName,
    creds: Credentials,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    ClientIp(ip): ClientIp,
    Body(body): Body,
) -> Result<Response, RestError> {
    let req = parse_request(&state, &creds, &name, &headers, raw)?;
    if req.table == Table::Sessions {
        state.session_limits.check(&req.principal, ip)?;
    }
    let rows = parse_rows(&body)?;
    let out = if rows.is_empty() {
        Vec::new()
    } else {
        state
            .writer
            .insert(&req.principal, req.table, rows)
            .await
            .map_err(|e| RestError::from_db(e, &req.principal))?
    };
    write_response(&req, out, true)
}

async fn update(
    State(state): State<AppState>,
    TableName(name): TableName,
    creds: Credentials,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    Body(body): Body,
) -> Result<Response, RestError> {
    let req = parse_request(&state, &creds, &name, &headers, raw)?;
    let patch = match serde_json::from_slice::<Value>(&body)
        .map_err(|e| RestError::bad_json(e.to_string()))?
    {
        Value::Object(m) => m,
        _ => return Err(RestError::bad_json("PATCH takes one JSON object")),
    };
    let out = state
        .writer
        .update(
            &req.principal,
            req.table,
            (req.query.filters.clone(), req.query.groups.clone()),
            patch,
        )
        .await
        .map_err(|e| RestError::from_db(e, &req.principal))?;
    write_response(&req, out, false)
}

async fn remove(
    State(state): State<AppState>,
    TableName(name): TableName,
    creds: Credentials,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, RestError> {
    let req = parse_request(&state, &creds, &name, &headers, raw)?;
    let out = state
        .writer
        .delete(
            &req.principal,
            req.table,
            (req.query.filters.clone(), req.query.groups.clone()),
        )
        .await
        .map_err(|e| RestError::from_db(e, &req.principal))?;
    write_response(&req, out, false)
}
