//! The price table: what a million tokens cost per provider and model, in micro-USD.

use sqlx::{Any, Executor};

use crate::{Result, now_ms};

pub use wire::settings::Price;

/// The price table shipped with Fleetdeck (list prices per million tokens in micro-USD).
///
/// The simulator is priced like a mid-range hosted model so that offline demos show realistic
/// costs; the UI labels those runs as simulated.
pub const DEFAULT_PRICES: &[(&str, &str, i64, i64, i64, i64)] = &[
    (
        "openai", "gpt-4o", 2_500_000, 10_000_000, 1_250_000, 128_000,
    ),
    ("openai", "gpt-4o-mini", 150_000, 600_000, 75_000, 128_000),
    (
        "openai", "gpt-4.1", 2_000_000, 8_000_000, 500_000, 1_047_576,
    ),
    (
        "openai",
        "gpt-4.1-mini",
        400_000,
        1_600_000,
        100_000,
        1_047_576,
    ),
    (
        "anthropic",
        "claude-opus-4-1",
        15_000_000,
        75_000_000,
        1_500_000,
        200_000,
    ),
    (
        "anthropic",
        "claude-sonnet-4-5",
        3_000_000,
        15_000_000,
        300_000,
        200_000,
    ),
    (
        "anthropic",
        "claude-haiku-4-5",
        1_000_000,
        5_000_000,
        100_000,
        200_000,
    ),
    (
        "gemini",
        "gemini-2.5-pro",
        1_250_000,
        10_000_000,
        310_000,
        1_048_576,
    ),
    (
        "gemini",
        "gemini-2.5-flash",
        300_000,
        2_500_000,
        75_000,
        1_048_576,
    ),
    (
        "simulator",
        "sim-standard",
        1_000_000,
        4_000_000,
        100_000,
        128_000,
    ),
    ("simulator", "sim-fast", 200_000, 800_000, 20_000, 32_000),
];

/// Inserts the default prices that are missing; prices an admin edited are left alone.
#[tracing::instrument(skip(db))]
pub async fn seed_defaults(db: &mut sqlx::AnyConnection) -> Result<u64> {
    let now = now_ms();
    let mut inserted = 0;
    for &(kind, model, input, output, cached, window) in DEFAULT_PRICES {
        inserted += sqlx::query(
            "INSERT INTO prices (provider_kind, model, input_per_mtok_micros, output_per_mtok_micros, \
             cached_input_per_mtok_micros, context_window, updated_at, cache_write_per_mtok_micros) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (provider_kind, model) DO NOTHING",
        )
        .bind(kind)
        .bind(model)
        .bind(input)
        .bind(output)
        .bind(cached)
        .bind(window)
        .bind(now)
        // Anthropic's list price for 5-minute cache writes.
        .bind((kind == "anthropic").then_some(input * 5 / 4))
        .execute(&mut *db)
        .await?
        .rows_affected();
    }
    Ok(inserted)
}

/// The whole price table, by provider and model.
#[tracing::instrument(skip(db))]
pub async fn list<'e>(db: impl Executor<'e, Database = Any>) -> Result<Vec<Price>> {
    Ok(sqlx::query_as(
        "SELECT provider_kind, model, input_per_mtok_micros, output_per_mtok_micros, \
         cached_input_per_mtok_micros, context_window, cache_write_per_mtok_micros FROM prices ORDER BY provider_kind, model",
    )
    .fetch_all(db)
    .await?)
}

/// The price of one model, if known.
#[tracing::instrument(skip(db))]
pub async fn get<'e>(
    db: impl Executor<'e, Database = Any>,
    provider_kind: &str,
    model: &str,
) -> Result<Option<Price>> {
    Ok(sqlx::query_as(
        "SELECT provider_kind, model, input_per_mtok_micros, output_per_mtok_micros, \
         cached_input_per_mtok_micros, context_window, cache_write_per_mtok_micros FROM prices \
         WHERE provider_kind = $1 AND model = $2",
    )
    .bind(provider_kind)
    .bind(model)
    .fetch_optional(db)
    .await?)
}

/// Sets (inserts or replaces) the price of one model after checking it.
#[tracing::instrument(skip(db))]
pub async fn upsert<'e>(db: impl Executor<'e, Database = Any>, price: &Price) -> Result<()> {
    let kind = crate::domain::ProviderKind::parse(&price.provider_kind)?;
    let model = price.model.trim();
    if model.is_empty() || model.len() > 200 {
        return Err(crate::Error::invalid(
            "model",
            "must be 1 to 200 characters",
        ));
    }
    let limit = 1_000_000_000; // $1,000 per million tokens
    for (field, value) in [
        ("input_per_mtok_micros", price.input_per_mtok_micros),
        ("output_per_mtok_micros", price.output_per_mtok_micros),
        (
            "cached_input_per_mtok_micros",
            price.cached_input_per_mtok_micros,
        ),
        (
            "cache_write_per_mtok_micros",
            price.cache_write_per_mtok_micros.unwrap_or(0),
        ),
    ] {
        if !(0..=limit).contains(&value) {
            return Err(crate::Error::invalid(
                field,
                "must be between $0 and $1,000 per million tokens",
            ));
        }
    }
    if !(0..=100_000_000).contains(&price.context_window) {
        return Err(crate::Error::invalid(
            "context_window",
            "must be between 0 and 100,000,000 tokens",
        ));
    }
    sqlx::query(
        "INSERT INTO prices (provider_kind, model, input_per_mtok_micros, output_per_mtok_micros, \
         cached_input_per_mtok_micros, context_window, updated_at, cache_write_per_mtok_micros) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (provider_kind, model) DO UPDATE SET input_per_mtok_micros = excluded.input_per_mtok_micros, \
         output_per_mtok_micros = excluded.output_per_mtok_micros, \
         cached_input_per_mtok_micros = excluded.cached_input_per_mtok_micros, \
         context_window = excluded.context_window, updated_at = excluded.updated_at, \
         cache_write_per_mtok_micros = excluded.cache_write_per_mtok_micros",
    )
    .bind(kind.as_str())
    .bind(model)
    .bind(price.input_per_mtok_micros)
    .bind(price.output_per_mtok_micros)
    .bind(price.cached_input_per_mtok_micros)
    .bind(price.context_window)
    .bind(now_ms())
    .bind(price.cache_write_per_mtok_micros)
    .execute(db)
    .await?;
    Ok(())
}
