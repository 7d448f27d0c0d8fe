//! The tables the server knows, their columns and Postgres type names.
//!
//! This list is the only source of column names that ever reaches SQL text: request input is
//! matched against it and the `&'static str` from here is what gets quoted into a statement.
//!
//! It sits at the crate root, below both `db` (which stores rows) and `authz` (which decides
//! who reaches them), so neither has to import the other to name a table.

use concierge_wire::message::MAX_MESSAGE_CHARS;
use concierge_wire::{AuthorRole, ReservationStatus, SessionKind, SessionStatus};
use serde::Serialize;
use serde_json::{Map, Value};

/// One row as JSON: column name → value.
pub type Row = Map<String, Value>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Table {
    Hotels,
    Events,
    KioskResults,
    /// The kiosk session ids each kiosk identity has claimed (migration 4): who owns which
    /// `kiosk_results`.
    KioskSessions,
    Sessions,
    /// The conversation inside a session (issue 16): one row per message.
    Messages,
    /// Bookings of events with a capacity (migration 6, issue 17): written only by the
    /// `reserve` and `cancel_reservation` calls; guests' names and rooms are for staff only.
    Reservations,
}

/// Column types, named after the Postgres types realtime reports in `columns`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColType {
    Uuid,
    Text,
    Timestamptz,
    Float8,
    Bool,
    Jsonb,
    /// A 32-bit integer (`int` in the migrations).
    Int4,
}

impl ColType {
    pub fn pg_name(self) -> &'static str {
        match self {
            ColType::Uuid => "uuid",
            ColType::Text => "text",
            ColType::Timestamptz => "timestamptz",
            ColType::Float8 => "float8",
            ColType::Bool => "bool",
            ColType::Jsonb => "jsonb",
            ColType::Int4 => "int4",
        }
    }
}

/// What the server fills in when an insert omits a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColDefault {
    None,
    NewUuid,
    Now,
    False,
    /// Always the `owner_id` of the `kiosk_sessions` row the new row's `session_id` names (NULL
    /// when nobody claimed it). Derived by the writer whoever writes; a sent value is ignored,
    /// like the `kiosk_results_owner` trigger in `supabase/migrations/0002_rules_level.sql`.
    KioskOwner,
    /// Always `capacity` minus the party sizes of the event's confirmed reservations (never
    /// below 0; NULL when the event takes no bookings). Derived by the writer on every insert
    /// and update of the event whoever writes; a sent value is ignored, like the
    /// `events_places_left` trigger in `supabase/migrations/0004_reservations.sql`.
    PlacesLeft,
}

impl ColDefault {
    /// Whether the server computes this column whatever an insert sends.
    pub fn is_derived(self) -> bool {
        matches!(self, ColDefault::KioskOwner | ColDefault::PlacesLeft)
    }
}

/// Which texts a text column accepts. The enums' words come from `concierge-wire`, the one
/// place that spells them; the migration's CHECK constraints are the backstop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    Any,
    SessionStatus,
    SessionKind,
    AuthorRole,
    /// A message body: 1 to [`MAX_MESSAGE_CHARS`] characters.
    MessageBody,
    ReservationStatus,
}

impl Domain {
    pub fn accepts(self, text: &str) -> bool {
        match self {
            Domain::Any => true,
            Domain::SessionStatus => SessionStatus::parse(text).is_some(),
            Domain::SessionKind => SessionKind::parse(text).is_some(),
            Domain::AuthorRole => AuthorRole::parse(text).is_some(),
            Domain::MessageBody => (1..=MAX_MESSAGE_CHARS).contains(&text.chars().count()),
            Domain::ReservationStatus => ReservationStatus::parse(text).is_some(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnDef {
    pub name: &'static str,
    pub ty: ColType,
    pub nullable: bool,
    pub default: ColDefault,
    /// The texts the column accepts (enforced by a CHECK constraint as well).
    pub domain: Domain,
}

impl ColumnDef {
    /// Whether `text` is a value this column may hold (its enum's words, for enum columns).
    pub fn accepts(&self, text: &str) -> bool {
        self.domain.accepts(text)
    }
}

const fn col(name: &'static str, ty: ColType, nullable: bool, default: ColDefault) -> ColumnDef {
    ColumnDef {
        name,
        ty,
        nullable,
        default,
        domain: Domain::Any,
    }
}

use ColDefault as D;
use ColType as T;

static HOTELS: &[ColumnDef] = &[
    col("id", T::Text, false, D::None),
    col("name", T::Text, false, D::None),
    col("latitude", T::Float8, true, D::None),
    col("longitude", T::Float8, true, D::None),
    col("timezone", T::Text, false, D::None),
];

static EVENTS: &[ColumnDef] = &[
    col("id", T::Uuid, false, D::NewUuid),
    col("hotel_id", T::Text, false, D::None),
    col("title", T::Text, false, D::None),
    col("category", T::Text, false, D::None),
    col("description", T::Text, true, D::None),
    col("venue", T::Text, true, D::None),
    col("starts_at", T::Timestamptz, false, D::None),
    col("ends_at", T::Timestamptz, true, D::None),
    col("price_text", T::Text, true, D::None),
    col("distance_km", T::Float8, true, D::None),
    col("is_hotel_service", T::Bool, false, D::False),
    col("image_url", T::Text, true, D::None),
    col("booking_url", T::Text, true, D::None),
    col("updated_at", T::Timestamptz, false, D::Now),
    // Issue 17: NULL capacity = no booking.
    col("capacity", T::Int4, true, D::None),
    col("places_left", T::Int4, true, D::PlacesLeft),
];

static KIOSK_RESULTS: &[ColumnDef] = &[
    col("id", T::Uuid, false, D::NewUuid),
    col("session_id", T::Text, false, D::None),
    col("results", T::Jsonb, false, D::None),
    col("created_at", T::Timestamptz, false, D::Now),
    col("owner_id", T::Uuid, true, D::KioskOwner),
];

static KIOSK_SESSIONS: &[ColumnDef] = &[
    col("id", T::Text, false, D::None),
    col("owner_id", T::Uuid, false, D::None),
    col("created_at", T::Timestamptz, false, D::Now),
];

static SESSIONS: &[ColumnDef] = &[
    col("id", T::Uuid, false, D::NewUuid),
    col("customer_id", T::Uuid, false, D::None),
    col("customer_name", T::Text, true, D::None),
    ColumnDef {
        name: "status",
        ty: T::Text,
        nullable: false,
        default: D::None,
        domain: Domain::SessionStatus,
    },
    ColumnDef {
        name: "kind",
        ty: T::Text,
        nullable: false,
        default: D::None,
        domain: Domain::SessionKind,
    },
    col("staff_id", T::Uuid, true, D::None),
    col("staff_name", T::Text, true, D::None),
    col("topic", T::Text, true, D::None),
    col("created_at", T::Timestamptz, false, D::Now),
    col("updated_at", T::Timestamptz, false, D::Now),
    col("ended_at", T::Timestamptz, true, D::None),
];

/// `id` is made by the sender (a retried send is the same row); `session_id` names a
/// `sessions` row or, for a kiosk conversation, a `kiosk_sessions` claim; the author columns
/// and `created_at` are the server's.
static MESSAGES: &[ColumnDef] = &[
    col("id", T::Uuid, false, D::NewUuid),
    col("session_id", T::Uuid, false, D::None),
    ColumnDef {
        name: "author_role",
        ty: T::Text,
        nullable: false,
        default: D::None,
        domain: Domain::AuthorRole,
    },
    col("author_id", T::Uuid, true, D::None),
    col("author_name", T::Text, true, D::None),
    ColumnDef {
        name: "body",
        ty: T::Text,
        nullable: false,
        default: D::None,
        domain: Domain::MessageBody,
    },
    col("created_at", T::Timestamptz, false, D::Now),
];

static RESERVATIONS: &[ColumnDef] = &[
    col("id", T::Uuid, false, D::NewUuid),
    col("event_id", T::Uuid, false, D::None),
    col("guest_name", T::Text, false, D::None),
    col("room", T::Text, false, D::None),
    col("party_size", T::Int4, false, D::None),
    ColumnDef {
        name: "status",
        ty: T::Text,
        nullable: false,
        default: D::None,
        domain: Domain::ReservationStatus,
    },
    col("created_at", T::Timestamptz, false, D::Now),
];

impl Table {
    pub const ALL: [Table; 7] = [
        Table::Hotels,
        Table::Events,
        Table::KioskResults,
        Table::KioskSessions,
        Table::Sessions,
        Table::Messages,
        Table::Reservations,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Table::Hotels => "hotels",
            Table::Events => "events",
            Table::KioskResults => "kiosk_results",
            Table::KioskSessions => "kiosk_sessions",
            Table::Sessions => "sessions",
            Table::Messages => "messages",
            Table::Reservations => "reservations",
        }
    }

    pub fn parse(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == name)
    }

    pub fn columns(self) -> &'static [ColumnDef] {
        match self {
            Table::Hotels => HOTELS,
            Table::Events => EVENTS,
            Table::KioskResults => KIOSK_RESULTS,
            Table::KioskSessions => KIOSK_SESSIONS,
            Table::Sessions => SESSIONS,
            Table::Messages => MESSAGES,
            Table::Reservations => RESERVATIONS,
        }
    }

    pub fn column(self, name: &str) -> Option<&'static ColumnDef> {
        self.columns().iter().find(|c| c.name == name)
    }

    /// Every table's primary key is its first column, `id`.
    pub fn pk(self) -> &'static ColumnDef {
        &self.columns()[0]
    }

    /// Whether realtime publishes the table's changes: the twin of the `supabase_realtime`
    /// publication (the app watches events, its kiosk's results, sessions and their messages;
    /// staff watch the reservations). The catalogue's hotels and the kiosks' claims are not
    /// published.
    pub fn published(self) -> bool {
        matches!(
            self,
            Table::Events
                | Table::KioskResults
                | Table::Sessions
                | Table::Messages
                | Table::Reservations
        )
    }

    /// Tables whose `updated_at` the write path refreshes on every update.
    pub fn updated_at(self) -> Option<&'static ColumnDef> {
        self.column("updated_at")
    }

    /// Realtime's `columns` list: `[{name, type}]` with Postgres type names.
    pub fn realtime_columns(self) -> Vec<concierge_wire::realtime::Column> {
        self.columns()
            .iter()
            .map(|c| concierge_wire::realtime::Column {
                name: c.name.into(),
                type_name: c.ty.pg_name().into(),
            })
            .collect()
    }
}
