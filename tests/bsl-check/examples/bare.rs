//! Lists bare calls that are not methods of their module (to curate the platform list).
use std::collections::BTreeSet;
fn main() {
    let mut all = BTreeSet::new();
    for path in bsl_check::bsl_files(&bsl_check::samples_dir()) {
        let m = bsl_check::Module::load(&path);
        let own: BTreeSet<String> = m
            .methods()
            .into_iter()
            .map(|x| x.name.to_lowercase())
            .collect();
        for c in m.calls() {
            if !c.dotted && !own.contains(&c.name.to_lowercase()) {
                all.insert(c.name.clone());
            }
        }
    }
    println!("{}", all.into_iter().collect::<Vec<_>>().join(" "));
}
