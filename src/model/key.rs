//! The pedimento key: one type, [`PedimentoKey`] = the year on the pedimento's number
//! plus [`PedimentoNumber`] (aduana-sección, patente, número). Its text form
//! `YYYY-ASS-PPPP-NNNNNNN` is the join key (`pedimento_id`) of every table in the
//! dataset; [`PedimentoKey::year_of_id`] is the one place that reads the year back from it.
//!
//! The year is the year of **validation**, not of payment: Anexo 22 (RGCE 2017,
//! instructivo de llenado, campo 1 "NUM. PEDIMENTO") builds the number from "2 dígitos,
//! del año de validación" and a 7-digit número whose first digit "debe corresponder al
//! último dígito del año en curso, salvo que se trate de un pedimento consolidado
//! iniciado en el año inmediato anterior o del pedimento original de una rectificación";
//! the descargo's "NUM. PEDIMENTO ORIGINAL" is built the same way. A pedimento validated
//! on 30 December and paid on 3 January therefore keeps the December year, and every
//! reference to it (512 descargos, 701 rectificaciones, virtual counterparts) names
//! that year. See [`PedimentoNumber::validation_year`] and docs/schema.md.

use super::{FieldError, FieldResult, digits, trim};
use std::fmt;

/// (aduana-sección, patente, número) as fixed-width ASCII digits: Copy, no allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PedimentoNumber {
    pub aduana: [u8; 3],
    pub patente: [u8; 4],
    pub numero: [u8; 7],
}

/// Hashed as one number (its 14 digits), not as three length-prefixed arrays: six
/// hasher writes per lookup, and every Data Stage 5xx row makes two or three lookups.
/// Any byte works (equal numbers give equal values).
impl std::hash::Hash for PedimentoNumber {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        let digits = self.aduana.iter().chain(&self.patente).chain(&self.numero);
        h.write_u64(digits.fold(0u64, |n, b| {
            n.wrapping_mul(10).wrapping_add(b.wrapping_sub(b'0') as u64)
        }));
    }
}

/// Left-pads a numeric code to N digits without allocating (same rules as [`digits`]).
pub fn fixed_digits<const N: usize>(s: &str, what: &str) -> FieldResult<[u8; N]> {
    let t = trim(s).as_bytes();
    if t.is_empty() || t.len() > N || !t.iter().all(u8::is_ascii_digit) {
        return digits(s, N, what).map(|_| [b'0'; N]);
    }
    let mut out = [b'0'; N];
    out[N - t.len()..].copy_from_slice(t);
    Ok(out)
}

impl PedimentoNumber {
    /// Parses the three parts (Data Stage drops leading zeros: they are put back).
    pub fn new(aduana: &str, patente: &str, numero: &str) -> FieldResult<Self> {
        Ok(PedimentoNumber {
            aduana: fixed_digits::<3>(aduana, "aduana/sección")?,
            patente: fixed_digits::<4>(patente, "patente")?,
            numero: fixed_digits::<7>(numero, "número de pedimento")?,
        })
    }
    /// The number of stored text parts, or all zeros when they are not digits (stored
    /// rows were validated when ingested).
    pub fn of_stored(aduana: &str, patente: &str, numero: &str) -> Self {
        PedimentoNumber {
            aduana: fixed_digits::<3>(aduana, "").unwrap_or([0; 3]),
            patente: fixed_digits::<4>(patente, "").unwrap_or([0; 4]),
            numero: fixed_digits::<7>(numero, "").unwrap_or([0; 7]),
        }
    }
    pub fn aduana_seccion(&self) -> &str {
        std::str::from_utf8(&self.aduana).unwrap_or("")
    }
    pub fn patente(&self) -> &str {
        std::str::from_utf8(&self.patente).unwrap_or("")
    }
    pub fn numero(&self) -> &str {
        std::str::from_utf8(&self.numero).unwrap_or("")
    }

    /// The year of validation of a pedimento with this número that is dated `year`
    /// (paid, or operated, in it). Anexo 22 campo 1: the número's first digit is the last
    /// digit of the year of validation. A pedimento is paid in its year of validation or,
    /// when validated at the end of December, in the next one: so the year is `year`
    /// unless the first digit is the previous year's last digit and not `year`'s, then
    /// `year - 1`. A número that follows neither keeps `year` (numbers that do not follow
    /// the rule keep the year of their date, as before).
    #[inline]
    pub fn validation_year(&self, year: i32) -> i32 {
        let d = self.numero[0].wrapping_sub(b'0') as i32;
        if d != year.rem_euclid(10) && d == (year - 1).rem_euclid(10) {
            year - 1
        } else {
            year
        }
    }
}

/// The pedimento key: year of validation, aduana+sección (3 digits), patente (4 digits),
/// número (7 digits). Displayed as `YYYY-ASS-PPPP-NNNNNNN`; that string is the join key
/// (`pedimento_id`) of every table in the dataset. Ordered as that string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PedimentoKey {
    year: i32,
    number: PedimentoNumber,
}

impl PedimentoKey {
    pub fn new(year: i32, aduana: &str, patente: &str, numero: &str) -> FieldResult<Self> {
        Ok(PedimentoKey {
            year,
            number: PedimentoNumber {
                aduana: fixed3(digits(aduana, 3, "aduana/sección")?),
                patente: fixed4(digits(patente, 4, "patente")?),
                numero: fixed7(digits(numero, 7, "número de pedimento")?),
            },
        })
    }

    /// The key of `number` in `year` (its year of validation).
    #[inline]
    pub fn of(number: PedimentoNumber, year: i32) -> Self {
        PedimentoKey { year, number }
    }

    /// The year on the pedimento's number: its year of validation.
    #[inline]
    pub fn year(&self) -> i32 {
        self.year
    }
    #[inline]
    pub fn number(&self) -> PedimentoNumber {
        self.number
    }
    pub fn aduana_seccion(&self) -> &str {
        self.number.aduana_seccion()
    }
    pub fn patente(&self) -> &str {
        self.number.patente()
    }
    pub fn numero(&self) -> &str {
        self.number.numero()
    }

    /// `YYYY-ASS-PPPP-NNNNNNN`.
    pub fn id(&self) -> String {
        self.id_text().into()
    }

    /// [`PedimentoKey::id`] as inline text, built without `format!` (no allocation: one
    /// per Data Stage 551 row).
    pub fn id_text(&self) -> compact_str::CompactString {
        let (t, year) = (&self.number, self.year);
        if !(0..=9999).contains(&year) {
            return compact_str::format_compact!(
                "{year:04}-{}-{}-{}",
                t.aduana_seccion(),
                t.patente(),
                t.numero()
            );
        }
        let y = year as u32;
        let mut b = [0u8; 21];
        for (i, d) in [y / 1000, y / 100 % 10, y / 10 % 10, y % 10]
            .iter()
            .enumerate()
        {
            b[i] = b'0' + *d as u8;
        }
        b[4] = b'-';
        b[5..8].copy_from_slice(&t.aduana);
        b[8] = b'-';
        b[9..13].copy_from_slice(&t.patente);
        b[13] = b'-';
        b[14..21].copy_from_slice(&t.numero);
        // The number's bytes are ASCII digits (`fixed_digits`); stored ones may be zeros.
        compact_str::CompactString::from_utf8(b).unwrap_or_else(|_| {
            compact_str::format_compact!(
                "{year:04}-{}-{}-{}",
                t.aduana_seccion(),
                t.patente(),
                t.numero()
            )
        })
    }

    /// The year of a `pedimento_id` (`YYYY-...`): the one reader of an id's year.
    pub fn year_of_id(id: &str) -> Option<i32> {
        id.get(..4)?.parse().ok()
    }

    /// Parses `YYYY-ASS-PPPP-NNNNNNN`, `YY-ASS-PPPP-NNNNNNN`, or the same with spaces
    /// (the printed form `24 240 3953 6000098`).
    pub fn parse(s: &str) -> FieldResult<Self> {
        let parts: Vec<&str> = s.split(['-', ' ', '/']).filter(|p| !p.is_empty()).collect();
        if parts.len() != 4 {
            return Err(FieldError::PedimentoShape { value: s.into() });
        }
        let year: i32 = parts[0].parse().map_err(|_| FieldError::PedimentoYear {
            value: s.into(),
            year: parts[0].into(),
        })?;
        let year = if parts[0].len() == 2 {
            2000 + year
        } else {
            year
        };
        PedimentoKey::new(year, parts[1], parts[2], parts[3])
    }
}

fn fixed3(s: String) -> [u8; 3] {
    s.as_bytes().try_into().unwrap_or([b'0'; 3])
}
fn fixed4(s: String) -> [u8; 4] {
    s.as_bytes().try_into().unwrap_or([b'0'; 4])
}
fn fixed7(s: String) -> [u8; 7] {
    s.as_bytes().try_into().unwrap_or([b'0'; 7])
}

impl fmt::Display for PedimentoKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_year_from_the_numero() {
        let n = PedimentoNumber::new("430", "3420", "1000123").unwrap();
        // First digit 1: validated in 2021, also when paid on 3 January 2022.
        assert_eq!(n.validation_year(2021), 2021);
        assert_eq!(n.validation_year(2022), 2021);
        // A número that does not follow the rule keeps its date's year.
        let m = PedimentoNumber::new("430", "3420", "6000123").unwrap();
        assert_eq!(m.validation_year(2022), 2022);
        let k = PedimentoKey::of(n, 2021);
        assert_eq!(k.id(), "2021-430-3420-1000123");
        assert_eq!(PedimentoKey::year_of_id(&k.id()), Some(2021));
        assert_eq!(PedimentoKey::parse("21 430 3420 1000123").unwrap(), k);
        assert!(PedimentoKey::of(n, 2021) < PedimentoKey::of(m, 2021));
    }
}
