#!/usr/bin/env bash
# Rebuild the README's pictures from a fresh `labkit demo` run (needs chromium for the report screenshot).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${DEMO_OUT:-$(mktemp -d)}
if [ -z "${DEMO_OUT:-}" ]; then
  export LABKIT_DB="$out/store.sqlite"  # the demo's runs go to a scratch run store, not your own
  .venv/bin/labkit demo -o "$out" > docs/img/demo_output.txt
fi
if [ -f "$out/store.sqlite" ]; then
  LABKIT_DB="$out/store.sqlite" .venv/bin/labkit history -o "$out/history" > docs/img/history_output.txt
  cp "$out/history/history_kinase_radiometric_reference.png" docs/img/history_kinase_reference.png
fi
cp "$out/maps/kinase_panel_KIN-1.png" docs/img/plate_map_kinase.png
cp "$out/maps/viability_aml_384_AML-1.png" docs/img/plate_map_aml_384.png
cp "$out/reports/kinase_panel/curves_grid.png" docs/img/curves_kinase.png
cp "$out/reports/viability_aml_384/curves_grid.png" docs/img/curves_viability_aml.png
cp "$out/reports/viability_km12/curves/entrectinib_KM12.png" docs/img/curve_km12.png
cp "$out/reports/kinase_panel/heatmaps/plate_KIN-1.png" docs/img/heatmap_kinase.png
if command -v chromium >/dev/null; then
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --user-data-dir="$out/chr" --hide-scrollbars --window-size=1280,1500 \
    --screenshot=docs/img/report.png "file://$out/reports/kinase_panel/report.html" 2>/dev/null
fi
echo "figures written to docs/img (demo output in $out)"
