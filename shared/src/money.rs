//! Money as integer minor units (cents) plus an ISO 4217 currency code. No floating point
//! anywhere near a price: the book rounds `price × qty` to two decimals; with minor units
//! there is nothing to round.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A three-letter ISO 4217 code, upper case (`EUR`, `USD`, `GBP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
#[serde(try_from = "String", into = "String")]
#[derive(ts_rs::TS)]
#[ts(type = "string")]
pub struct Currency([u8; 3]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("{0:?} is not a three-letter currency code")]
    BadCurrency(String),
    #[error("cannot add {0} and {1}: different currencies")]
    CurrencyMismatch(Currency, Currency),
    #[error("amount out of range")]
    Overflow,
}

impl Currency {
    pub const EUR: Currency = Currency(*b"EUR");
    pub const USD: Currency = Currency(*b"USD");

    pub fn parse(raw: &str) -> Result<Self, MoneyError> {
        let code = raw.trim().to_ascii_uppercase();
        let bytes = code.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_uppercase) {
            return Err(MoneyError::BadCurrency(raw.to_owned()));
        }
        Ok(Currency([bytes[0], bytes[1], bytes[2]]))
    }

    pub fn as_str(&self) -> &str {
        // Constructed only from ASCII upper-case letters.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> Self {
        value.as_str().to_owned()
    }
}

/// An amount of money in minor units (e.g. cents). May be negative only as a refund delta.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(ts_rs::TS)]
pub struct Money {
    pub amount_minor: i64,
    pub currency: Currency,
}

impl Money {
    pub const fn new(amount_minor: i64, currency: Currency) -> Self {
        Self {
            amount_minor,
            currency,
        }
    }

    pub const fn zero(currency: Currency) -> Self {
        Self {
            amount_minor: 0,
            currency,
        }
    }

    pub fn is_zero(&self) -> bool {
        self.amount_minor == 0
    }

    pub fn times(&self, quantity: u32) -> Result<Money, MoneyError> {
        let amount_minor = self
            .amount_minor
            .checked_mul(i64::from(quantity))
            .ok_or(MoneyError::Overflow)?;
        Ok(Money {
            amount_minor,
            currency: self.currency,
        })
    }

    pub fn plus(&self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch(self.currency, other.currency));
        }
        let amount_minor = self
            .amount_minor
            .checked_add(other.amount_minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money {
            amount_minor,
            currency: self.currency,
        })
    }

    pub fn minus(&self, other: Money) -> Result<Money, MoneyError> {
        self.plus(Money {
            amount_minor: -other.amount_minor,
            currency: other.currency,
        })
    }
}

impl fmt::Display for Money {
    /// `EUR 199.00`: two minor digits, which holds for the currencies a conference sells in;
    /// the UI formats with the locale's rules.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.amount_minor < 0 { "-" } else { "" };
        let abs = self.amount_minor.unsigned_abs();
        write!(f, "{} {sign}{}.{:02}", self.currency, abs / 100, abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_totals_are_exact_in_minor_units() {
        let price = Money::new(19_900, Currency::EUR);
        assert_eq!(price.times(3).unwrap(), Money::new(59_700, Currency::EUR));
        assert_eq!(price.to_string(), "EUR 199.00");
    }

    #[test]
    fn adding_different_currencies_is_an_error_not_a_guess() {
        let eur = Money::new(1, Currency::EUR);
        let usd = Money::new(1, Currency::USD);
        assert_eq!(
            eur.plus(usd),
            Err(MoneyError::CurrencyMismatch(Currency::EUR, Currency::USD))
        );
    }

    #[test]
    fn currency_codes_are_validated() {
        assert_eq!(Currency::parse("eur").unwrap(), Currency::EUR);
        assert!(Currency::parse("EURO").is_err());
        assert!(Currency::parse("E1R").is_err());
    }
}
