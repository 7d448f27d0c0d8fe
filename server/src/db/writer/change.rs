//! What a committed write publishes to the realtime fan-out.

use std::sync::Arc;

use concierge_wire::realtime::ChangeType;

use crate::authz::Conversation;
use crate::db::{Row, Table};

/// One committed row change, as realtime publishes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub table: Table,
    pub change_type: ChangeType,
    pub commit_timestamp: String,
    /// The new row (INSERT, UPDATE).
    pub record: Option<Row>,
    /// The old row's primary key (UPDATE, DELETE), as Postgres' default replica identity gives.
    pub old_record: Option<Row>,
    /// The full deleted row, used only for authorization (never sent).
    pub deleted_row: Option<Row>,
    /// The session a message belongs to, as the writer found it at commit: who may see the
    /// change (`authz::change_visible`). Only for tables whose rules read it; never sent.
    pub conversation: Option<Conversation>,
}

impl Change {
    /// The row filters are evaluated against: the new row, or for DELETE the old identity.
    pub fn filter_row(&self) -> Option<&Row> {
        match self.change_type {
            ChangeType::Insert | ChangeType::Update => self.record.as_ref(),
            ChangeType::Delete => self.old_record.as_ref(),
        }
    }

    /// The row the authorization layer judges visibility on.
    pub fn auth_row(&self) -> Option<&Row> {
        self.record.as_ref().or(self.deleted_row.as_ref())
    }
}

pub type ChangeSink = tokio::sync::mpsc::UnboundedSender<Arc<Change>>;
