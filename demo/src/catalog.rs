//! A small built-in product list standing in for `Справочник.Номенклатура`
//! with prices and stock by store.

/// One product with its price and stock.
#[derive(Debug)]
pub struct Product {
    /// Catalogue code, used in callback data (`card:<code>`).
    pub code: &'static str,
    pub name: &'static str,
    pub article: &'static str,
    /// Price in roubles.
    pub price: u32,
    /// (store, units in stock).
    pub stock: &'static [(&'static str, u32)],
    /// The colour of the product's picture (RGB).
    pub colour: [u8; 3],
}

/// Every product the demo company sells.
pub const PRODUCTS: &[Product] = &[
    Product {
        code: "001",
        name: "Дрель аккумуляторная 18 В",
        article: "DR-18V",
        price: 8990,
        stock: &[("Склад Москва", 12), ("Магазин на Тверской", 3)],
        colour: [0x2e, 0x7d, 0x32],
    },
    Product {
        code: "002",
        name: "Дрель ударная 750 Вт",
        article: "DU-750",
        price: 5490,
        stock: &[("Склад Москва", 7), ("Склад Казань", 0)],
        colour: [0x15, 0x65, 0xc0],
    },
    Product {
        code: "003",
        name: "Краска фасадная белая, 10 л",
        article: "KF-10W",
        price: 3250,
        stock: &[("Склад Москва", 40), ("Склад Казань", 18)],
        colour: [0xef, 0x6c, 0x00],
    },
    Product {
        code: "004",
        name: "Перчатки рабочие, 10 пар",
        article: "PR-10",
        price: 690,
        stock: &[("Склад Москва", 250), ("Магазин на Тверской", 35)],
        colour: [0x6a, 0x1b, 0x9a],
    },
    Product {
        code: "005",
        name: "Шуруповёрт компактный 12 В",
        article: "SH-12V",
        price: 4390,
        stock: &[("Склад Казань", 5)],
        colour: [0xc6, 0x28, 0x28],
    },
];

/// At most this many cards per search (Telegram lets a bot send about three
/// messages to one chat at once).
pub const MAX_RESULTS: usize = 3;

/// Products whose name contains `query`, case-insensitively (`ПОДОБНО "%query%"`).
pub fn search(query: &str) -> Vec<&'static Product> {
    let query = query.trim().to_lowercase();
    PRODUCTS
        .iter()
        .filter(|p| p.name.to_lowercase().contains(&query))
        .take(MAX_RESULTS)
        .collect()
}

/// The product with this code (`НайтиПоКоду`).
pub fn by_code(code: &str) -> Option<&'static Product> {
    PRODUCTS.iter().find(|p| p.code == code)
}

/// A price as people write it: `8 990 ₽`.
pub fn rubles(price: u32) -> String {
    let digits = price.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out + " ₽"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_is_case_insensitive_and_bounded() {
        assert_eq!(search("ДРЕЛЬ").len(), 2);
        assert_eq!(search("краска")[0].code, "003");
        assert!(search("трактор").is_empty());
        assert_eq!(rubles(8990), "8 990 ₽");
        assert_eq!(rubles(690), "690 ₽");
        assert_eq!(rubles(1234567), "1 234 567 ₽");
    }
}
