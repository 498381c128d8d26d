//! How figures read, on a page rendered by the server and on one updated in the browser alike.

/// 100000 → "100,000": a count as pages show it.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::from(if n < 0 { "-" } else { "" });
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `micros` as dollars: four decimals below one cent, two with thousands separators above.
pub fn format_micros(micros: i64) -> String {
    let sign = if micros < 0 { "-" } else { "" };
    let abs = micros.unsigned_abs();
    if abs == 0 {
        return "$0.00".to_owned();
    }
    if abs < 10_000 {
        // Four decimals: 100 micro-dollars per step, rounded half up.
        let ten_thousandths = (abs + 50) / 100;
        return format!(
            "{sign}${}.{:04}",
            ten_thousandths / 10_000,
            ten_thousandths % 10_000
        );
    }
    let cents = (abs + 5_000) / 10_000;
    let digits = (cents / 100).to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}${grouped}.{:02}", cents % 100)
}

/// A cost that may include calls at an unknown price: "price unknown" rather than "$0.00" when
/// nothing was priced, "$0.12 + unknown" when part was — never a figure that looks complete.
pub fn cost_label(micros: i64, price_known: bool) -> String {
    match (price_known, micros) {
        (true, _) => format_micros(micros),
        (false, 0) => "price unknown".to_owned(),
        (false, _) => format!("{} + unknown", format_micros(micros)),
    }
}

/// A unit price (micro-USD per million tokens) with as many decimals as it needs, at least two:
/// `$0.075`, `$2.50`, `$15.00`. Unlike [`format_micros`], it never rounds a price.
pub fn price(per_million_micros: i64) -> String {
    let sign = if per_million_micros < 0 { "-" } else { "" };
    let micros = per_million_micros.unsigned_abs();
    let mut fraction = format!("{:06}", micros % 1_000_000);
    while fraction.len() > 2 && fraction.ends_with('0') {
        fraction.pop();
    }
    format!("{sign}${}.{fraction}", micros / 1_000_000)
}

/// `128k`, `1.05M` for a context window in tokens; `—` when it is unknown (0).
pub fn tokens_short(tokens: i64) -> String {
    if tokens <= 0 {
        "—".to_owned()
    } else if tokens >= 1_000_000 {
        let text = format!("{:.2}", tokens as f64 / 1_000_000.0);
        format!("{}M", text.trim_end_matches('0').trim_end_matches('.'))
    } else if tokens >= 1_000 {
        format!("{}k", tokens / 1_000)
    } else {
        tokens.to_string()
    }
}

/// The display name of a provider kind.
pub fn provider_kind_name(kind: &str) -> &str {
    match kind {
        "openai" => "OpenAI",
        "anthropic" => "Anthropic",
        "gemini" => "Google Gemini",
        "openai_compatible" => "OpenAI-compatible",
        "simulator" => "Simulator",
        other => other,
    }
}

/// RFC 3339 (`2026-11-22T14:03:07Z`) for Unix milliseconds; times before 1970 read as 1970.
fn rfc3339(ms: i64) -> String {
    let secs = u64::try_from(ms / 1000).unwrap_or(0);
    let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    humantime::format_rfc3339_seconds(when).to_string()
}

/// A duration in milliseconds as `42 s`, `3.5 min` or `1.2 h`; unknown as `—`.
pub fn duration(ms: Option<f64>) -> String {
    match ms {
        None => "—".to_owned(),
        Some(ms) if ms < 60_000.0 => format!("{:.0} s", ms / 1000.0),
        Some(ms) if ms < 3_600_000.0 => format!("{:.1} min", ms / 60_000.0),
        Some(ms) => format!("{:.1} h", ms / 3_600_000.0),
    }
}

/// `2026-11-22 14:03:07 UTC` for Unix milliseconds.
pub fn timestamp(ms: i64) -> String {
    rfc3339(ms).replace('T', " ").replace('Z', " UTC")
}

/// `Nov 22` for a time in Unix milliseconds (its UTC day).
pub fn day_label(ms: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let text = rfc3339(ms);
    let month: usize = text.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(1);
    let day: u32 = text.get(8..10).and_then(|d| d.parse().ok()).unwrap_or(1);
    format!("{} {day}", MONTHS[month.clamp(1, 12) - 1])
}

/// How much of a model's window a context fills, e.g. `0.4%`; None when the window is unknown.
pub fn context_percent(context_tokens: i64, context_window: i64) -> Option<String> {
    (context_window > 0).then(|| {
        let share = context_tokens as f64 * 100.0 / context_window as f64;
        format!("{:.1}%", share.min(100.0))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_well_at_every_size() {
        assert_eq!(format_micros(0), "$0.00");
        assert_eq!(format_micros(1_200), "$0.0012");
        assert_eq!(format_micros(9_999), "$0.0100");
        assert_eq!(format_micros(123_456), "$0.12");
        assert_eq!(format_micros(1_234_567_890_000), "$1,234,567.89");
        assert_eq!(format_micros(-1_200), "-$0.0012");
    }

    #[test]
    fn prices_are_never_rounded() {
        assert_eq!(price(75_000), "$0.075");
        assert_eq!(price(2_500_000), "$2.50");
        assert_eq!(price(15_000_000), "$15.00");
    }

    #[test]
    fn context_windows_are_short() {
        assert_eq!(tokens_short(128_000), "128k");
        assert_eq!(tokens_short(1_047_576), "1.05M");
        assert_eq!(tokens_short(2_000_000), "2M");
        assert_eq!(tokens_short(0), "—");
    }

    #[test]
    fn dates_read_in_utc() {
        assert_eq!(day_label(0), "Jan 1");
        // 2026-11-22T00:00:00Z
        assert_eq!(day_label(1_795_305_600_000), "Nov 22");
        assert_eq!(timestamp(1_795_305_600_000), "2026-11-22 00:00:00 UTC");
        assert_eq!(context_percent(512, 128_000).as_deref(), Some("0.4%"));
        assert_eq!(context_percent(512, 0), None);
    }

    #[test]
    fn unknown_prices_never_read_as_free() {
        assert_eq!(cost_label(0, false), "price unknown");
        assert_eq!(cost_label(120_000, false), "$0.12 + unknown");
        assert_eq!(cost_label(0, true), "$0.00");
    }
}
