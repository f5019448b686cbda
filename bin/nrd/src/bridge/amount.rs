//! Amounts of wei as users write them, and as nrd prints them.

use alloy_primitives::U256;

// ---------------------------------------------------------------- amounts and time

/// Wei from `1000`, `0x3e8`, `1ether`, `1.5 eth`, `20gwei`, `5wei`.
pub(crate) fn parse_amount(text: &str) -> Result<U256, String> {
    let s = text.trim().to_ascii_lowercase();
    if let Some(hex) = s.strip_prefix("0x") {
        return U256::from_str_radix(hex, 16).map_err(|e| format!("`{text}`: {e}"));
    }
    let (number, decimals) = if let Some(n) = s.strip_suffix("ether").or_else(|| s.strip_suffix("eth")) {
        (n, 18)
    } else if let Some(n) = s.strip_suffix("gwei") {
        (n, 9)
    } else if let Some(n) = s.strip_suffix("wei") {
        (n, 0)
    } else {
        (s.as_str(), 0)
    };
    let number = number.trim();
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    if !(digits(int) || (int.is_empty() && digits(frac))) || !(frac.is_empty() || digits(frac)) {
        return Err(format!("`{text}` is not an amount (wei, or a number with ether/eth/gwei/wei)"));
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > decimals {
        return Err(format!("`{text}` has more decimals than wei allows"));
    }
    let scaled = format!("{}{frac}{}", if int.is_empty() { "0" } else { int }, "0".repeat(decimals - frac.len()));
    U256::from_str_radix(&scaled, 10).map_err(|e| format!("`{text}`: {e}"))
}

/// `value` wei as `1.5 ETH (1500000000000000000 wei)`.
pub(crate) fn format_ether(value: U256) -> String {
    let unit = U256::from(10u64).pow(U256::from(18));
    let (int, frac) = value.div_rem(unit);
    let frac = format!("{frac:0>18}");
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() { format!("{int} ETH ({value} wei)") } else { format!("{int}.{frac} ETH ({value} wei)") }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn amounts() {
        let ether = U256::from(10u64).pow(U256::from(18));
        assert_eq!(parse_amount("1ether"), Ok(ether));
        assert_eq!(parse_amount("1 ETH"), Ok(ether));
        assert_eq!(parse_amount("0.5ether"), Ok(ether / U256::from(2)));
        assert_eq!(parse_amount(".25eth"), Ok(ether / U256::from(4)));
        assert_eq!(parse_amount("20gwei"), Ok(U256::from(20_000_000_000u64)));
        assert_eq!(parse_amount("1000"), Ok(U256::from(1000)));
        assert_eq!(parse_amount("7wei"), Ok(U256::from(7)));
        assert_eq!(parse_amount("0x10"), Ok(U256::from(16)));
        assert!(parse_amount("1.5wei").is_err());
        assert!(parse_amount("1foo").is_err());
        assert!(parse_amount("").is_err());
        assert!(parse_amount("-1").is_err());
        assert!(parse_amount("1.2.3ether").is_err());
        assert_eq!(format_ether(ether + ether / U256::from(2)), "1.5 ETH (1500000000000000000 wei)");
        assert_eq!(format_ether(U256::ZERO), "0 ETH (0 wei)");
    }
}
