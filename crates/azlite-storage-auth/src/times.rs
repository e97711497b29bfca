//! The two time formats of storage authentication: ISO 8601 UTC in SAS fields (`st`, `se`,
//! `skt`, `ske`), and RFC 1123 in `Date`/`x-ms-date` and in Azure's error details.

use time::format_description::FormatItem;
use time::macros::format_description;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

const RFC1123: &[FormatItem<'static>] = format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
);

/// Formats a time as HTTP's RFC 1123 date (`Mon, 08 Aug 2016 08:08:51 GMT`), the form Azure
/// uses in `AuthenticationErrorDetail`.
pub fn format_rfc1123(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(RFC1123)
        .unwrap_or_default()
}

/// Parses an RFC 1123 date as sent in `Date`/`x-ms-date` (GMT only, as HTTP requires).
pub fn parse_rfc1123(text: &str) -> Option<OffsetDateTime> {
    PrimitiveDateTime::parse(text.trim(), RFC1123)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// Parses a SAS time in the ISO 8601 forms Azure accepts: `YYYY-MM-DD`,
/// `YYYY-MM-DDThh:mmZ`, `YYYY-MM-DDThh:mm:ssZ` and `YYYY-MM-DDThh:mm:ss.fffffffZ` (up to
/// seven fractional digits). UTC only.
pub fn parse_sas_time(text: &str) -> Option<OffsetDateTime> {
    let b = text.as_bytes();
    let digits = |from: usize, len: usize| -> Option<u32> {
        let part = b.get(from..from + len)?;
        if part.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(part).ok()?.parse().ok()
        } else {
            None
        }
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i32::try_from(digits(0, 4)?).ok()?;
    let month = Month::try_from(u8::try_from(digits(5, 2)?).ok()?).ok()?;
    let day = u8::try_from(digits(8, 2)?).ok()?;
    let date = Date::from_calendar_date(year, month, day).ok()?;
    if b.len() == 10 {
        return Some(PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_utc());
    }
    if b.len() < 17 || b[10] != b'T' || b[13] != b':' || *b.last()? != b'Z' {
        return None;
    }
    let hour = u8::try_from(digits(11, 2)?).ok()?;
    let minute = u8::try_from(digits(14, 2)?).ok()?;
    let rest = &b[16..b.len() - 1];
    let (second, nanos) = match rest {
        [] => (0, 0),
        [b':', s1, s2, fraction @ ..] => {
            let second = u8::try_from(digits(17, 2)?).ok()?;
            let _ = (s1, s2);
            let nanos = match fraction {
                [] => 0,
                [b'.', f @ ..]
                    if (1..=7).contains(&f.len()) && f.iter().all(u8::is_ascii_digit) =>
                {
                    let mut n: u32 = 0;
                    for (i, d) in f.iter().enumerate() {
                        n += u32::from(d - b'0') * 10u32.pow(8 - i as u32);
                    }
                    n
                }
                _ => return None,
            };
            (second, nanos)
        }
        _ => return None,
    };
    let time = Time::from_hms_nano(hour, minute, second, nanos).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

/// Formats a time the way the SDKs write SAS fields: `YYYY-MM-DDThh:mm:ssZ` (fraction
/// dropped, as ARM does).
pub fn format_sas_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sas_times_in_every_accepted_form() {
        let full = parse_sas_time("2017-09-22T00:10:00Z").unwrap();
        assert_eq!(full.unix_timestamp(), 1_506_039_000);
        assert_eq!(parse_sas_time("2017-09-22T00:10Z").unwrap(), full);
        assert_eq!(
            parse_sas_time("2017-09-22").unwrap().unix_timestamp(),
            1_506_038_400
        );
        let frac = parse_sas_time("2017-05-24T11:32:48.8457197Z").unwrap();
        assert_eq!(frac.nanosecond(), 845_719_700);
        assert_eq!(format_sas_time(frac), "2017-05-24T11:32:48Z");
        for bad in [
            "2017-09-22T00:10:00",
            "2017-09-22T00:10:00+01:00",
            "2017-09-22T25:10:00Z",
            "2017-02-30",
            "2017-09-22T00:10:00.12345678Z",
            "2017-09-22T00:10:0Z",
            "",
        ] {
            assert_eq!(parse_sas_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn rfc1123_round_trip() {
        let t = parse_rfc1123("Mon, 08 Aug 2016 08:08:51 GMT").unwrap();
        assert_eq!(format_rfc1123(t), "Mon, 08 Aug 2016 08:08:51 GMT");
        assert_eq!(parse_rfc1123("Mon, 08 Aug 2016 08:08:51 +0000"), None);
    }
}
