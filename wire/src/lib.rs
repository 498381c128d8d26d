//! What the engine and the browser both speak, defined once: money (an integer of micro-USD
//! everywhere, formatted the same on a page rendered by the server and on one updated live in
//! the browser) and the kinds of live events. Only `serde`, which the bundle has anyway.

pub mod events;

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
    fn unknown_prices_never_read_as_free() {
        assert_eq!(cost_label(0, false), "price unknown");
        assert_eq!(cost_label(120_000, false), "$0.12 + unknown");
        assert_eq!(cost_label(0, true), "$0.00");
    }
}
