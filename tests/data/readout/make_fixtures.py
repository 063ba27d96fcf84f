"""Regenerate the readout fixtures (run once; the files are committed): `python make_fixtures.py`.

Each fixture follows the layout of real exports of its instrument (section order, headers, separators,
encodings, markers). Values follow simple formulas so tests can spot-check them:
  v(row, col) = 1000 * (row + 1) + col        (row 0-based, col 1-based), unless stated otherwise.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

HERE = Path(__file__).parent
ROWS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def v(r: int, c: int) -> int:
    return 1000 * (r + 1) + c


def save(name: str, text: str, encoding: str = "utf-8", newline: str = "\n") -> None:
    data = text.replace("\n", newline).encode(encoding)
    (HERE / name).write_bytes(data)


def save_xlsx(name: str, wb) -> None:
    """Save a workbook with fixed zip and document timestamps, so regenerating does not change the bytes."""
    import re
    import zipfile

    buf = io.BytesIO()
    wb.save(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in sorted(src.infolist(), key=lambda i: i.filename):
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*", rb"\g<1>2024-05-14T10:00:00Z", data)
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=(2024, 5, 14, 10, 0, 0)), data,
                         compress_type=zipfile.ZIP_DEFLATED)
    (HERE / name).write_bytes(out.getvalue())


def grid(n_rows: int, n_cols: int, cell, sep: str = ",", two_digit: bool = False, trailing: str = "",
         labels: list[str] | None = None) -> list[str]:
    head = sep + sep.join(f"{c:02d}" if two_digit else str(c) for c in range(1, n_cols + 1)) + trailing
    labels = labels or list(ROWS[:n_rows])
    return [head] + [labels[r] + sep + sep.join(cell(r, c) for c in range(1, n_cols + 1)) + trailing
                     for r in range(n_rows)]


# --- PerkinElmer MicroBeta2: plate-grid export, 2 plates, CCPM1 + CPM1 + counting-time grids, CRLF ------
def microbeta2_grid() -> None:
    out = ["PerkinElmer MicroBeta2 Windows Workstation,Version 4.0.27",
           'Instrument,2450 MicroBeta2,Serial number,="2450-0231"',
           "Protocol name,33P filtermat kinase", "Protocol number,12", "Isotope,33P", "Counting time,60 s",
           "Detectors,6", "Plate format,96", "Normalization,2024-05-01 08:12:40", ""]
    for p, barcode in ((1, "KIN-TRKA-01"), (2, "KIN-TRKA-02")):
        def ccpm(r, c, p=p):
            if p == 2 and r >= 6:
                return ""  # rows G, H not counted on plate 2 (partial plate)
            if (p, r, c) == (1, 1, 5):
                return "*"  # counting error
            if (p, r, c) == (1, 2, 7):
                return "-"
            return f"{v(r, c) + 100 * p}"

        def cpm(r, c, p=p):
            x = ccpm(r, c)
            return str(int(x) - 7) if x.isdigit() else x

        def time(r, c, p=p):
            return "" if ccpm(r, c) == "" else "60.00"
        out += [f"Plate,{p}", f'Barcode,="{barcode}"', "Measured,2024-05-14 09:58:02", "", "CCPM1"]
        out += grid(8, 12, ccpm) + ["", "CPM1"] + grid(8, 12, cpm) + ["", "Counting time (s)"]
        out += grid(8, 12, time) + [""]
    out += ["End of report"]
    save("microbeta2_grid_2plates.csv", "\n".join(out) + "\n", newline="\r\n")


# --- MicroBeta2, 384-well, European locale: ';' and decimal commas, padded values ------------------------
def microbeta_eu() -> None:
    out = ["MicroBeta2 2450;Version 4.0.27", "Protocol name;33P SPA 384", "Counting time;30 s", "",
           "Plate;1", 'Barcode;="SPA-384-07"', "", "CCPM1"]
    out += grid(16, 24, lambda r, c: f"  {v(r, c)},{c % 10} ", sep=";")
    out += ["", "Counting time (s)"] + grid(16, 24, lambda r, c: "30,00", sep=";") + [""]
    save("microbeta2_384_semicolon.csv", "\n".join(out) + "\n", encoding="cp1252", newline="\r\n")


# --- TopCount NXT list export (by well), 2 plate sections --------------------------------------------------
def topcount_list() -> None:
    out = ["TopCount NXT (TM) V2.53,Packard BioScience Company", "Protocol #,3,Name,33P kinase TRKB",
           "Count time,1.00 min", ""]
    for p, bc in ((1, "1051017"), (2, "1051018")):
        out += [f"Plate #,{p}", f'Barcode,="{bc}"', "", "Well,Sample,CPM,Time (min),Counts,Flag"]
        for r in range(8):
            for c in range(1, 13):
                if p == 2 and c > 6:
                    continue  # only columns 1-6 counted on plate 2
                cpm = v(r, c) + p
                out.append(f"{ROWS[r]}{c:02d},{r * 12 + c},{cpm},1.00,{cpm},")
        out.append("")
    save("topcount_list.csv", "\n".join(out) + "\n", newline="\r\n")


# --- TopCount NXT native output files (layouts of the real files in github.com/tzielins/BioDare2-topcount,
#     src/test/resources/ed/biodare/data/topcount/: no header, no plate id; see README.md) ------------------
def _tc_grid(cell, pad: bool) -> list[str]:
    """One TopCount plate-output grid: tab-separated, row labels '  A ', unread wells blank."""
    if pad:  # plate output as in 20150401a/0074.001: every cell 11 wide, last header cell '    12 '
        head = "    \t" + "\t".join(f"{c:>6}     " if c < 12 else f"{c:>6} " for c in range(1, 13))
        fmt = lambda text: f"{text:>10} "  # noqa: E731
    else:  # kinetic output as in ed/bd/parser/topcount/090211plate1236.txt: unpadded, blanks of spaces
        head = "    \t" + "\t".join(str(c) for c in range(1, 13))
        fmt = lambda text: text  # noqa: E731
    out = [head]
    for r in range(8):
        cells = [cell(r, c) for c in range(1, 13)]
        out.append(f"  {ROWS[r]} \t" + "\t".join(fmt(t) if t else (" " * 11 if pad else " " * (3 if c < 10 else 4))
                                                 for c, t in enumerate(cells, start=1)))
    return out


def topcount_plate() -> None:
    # rows B, D, F, H not counted (blank); counts grid, two '    ' lines, grid of read times of day (24 h)
    read = lambda r: r % 2 == 0  # noqa: E731
    counts = _tc_grid(lambda r, c: str(v(r, c)) if read(r) else "", pad=True)
    times = _tc_grid(lambda r, c: f"13:{8 + (c + r) // 6:02d}:{(11 + 5 * c + 7 * r) % 60:02d}" if read(r) else "",
                     pad=True)
    save("topcount_plate_96.001", "\n".join(counts + ["    ", "    "] + times) + "\n\n", newline="\r\n")


def topcount_kinetic() -> None:
    # 3 cycles of the same plate; odd columns counted; tab-only filler lines; 12 h times with AM/PM
    out: list[str] = []
    for k in range(3):
        counts = _tc_grid(lambda r, c: str(v(r, c) + 10000 * k) if c % 2 == 1 else "", pad=False)
        times = _tc_grid(lambda r, c: f"{11 + k}:{(50 + c + r) % 60:02d}:{(4 * r + 3 * c) % 60:02d} "
                                      f"{'AM' if k == 0 else 'PM'}" if c % 2 == 1 else "", pad=False)
        out += counts + ["    " + "\t" * 12, "    " + "\t" * 12] + times + [""]
    save("topcount_plate_kinetic.txt", "\n".join(out) + "\n", newline="\r\n")


def topcount_columns() -> None:
    # column output as in TopCountColumnParserTest.java: ' pos ,counts ,time '; 2 cycles, positions restart at 1
    out = []
    for k in range(2):
        for pos in range(1, 97):
            r, c = (pos - 1) // 12, (pos - 1) % 12 + 1
            t = 15 * 60 + 21 + 7 * (pos - 1) + 1800 * k
            out.append(f"{pos:>3} ,{v(r, c) + 10000 * k:>4} ,10:{t // 60 % 60:02d}:{t % 60:02d} AM ")
    save("topcount_columns.001", "\n".join(out) + "\n", newline="\r\n")


# --- MicroBeta TriLux list by position (tab separated, numeric positions) ---------------------------------
def trilux_positions() -> None:
    out = ["Wallac 1450 MicroBeta TriLux", "Protocol\t7\t3H SPA", "", "Plate\tPos\tDet\tCCPM1\tCPM1\tTime(s)"]
    for pos in range(1, 97):
        r, c = (pos - 1) // 12, (pos - 1) % 12 + 1
        out.append(f"1\t{pos}\t{(pos - 1) % 6 + 1}\t{v(r, c)}\t{v(r, c) - 3}\t60")
    save("trilux_list_positions.txt", "\n".join(out) + "\n")


# --- PerkinElmer EnVision: 384, 2 plates, calculated + measured results (allotropy path) ----------------
ENV_INFO_CALC = ("Plate,Repeat,Barcode,Measured height,Chamber temperature at start,Chamber temperature at end,"
                 "Humidity at start,Humidity at end,Ambient temperature at start,Ambient temperature at end,"
                 "Formula,Measurement date,")
ENV_INFO = ("Plate,Repeat,Barcode,Measured height,Chamber temperature at start,Chamber temperature at end,"
            "Humidity at start,Humidity at end,Ambient temperature at start,Ambient temperature at end,Group,"
            "Label,ScanX,ScanY,Measinfo,Kinetics,Measurement date,")


def envision_tail(n_plates: int, fmt: int, sep: str = ",") -> str:
    n_rows, n_cols = {96: (8, 12), 384: (16, 24)}[fmt]
    s = sep
    out = ["", "Basic assay information ", f"Assay ID: {s}{s}{s}{s}2900",
           f"Assay Started: {s}{s}{s}{s}8/22/2023 12:15:09 PM", f"Protocol ID: {s}{s}{s}{s}100176",
           f"Protocol Name: {s}{s}{s}{s}CTG KM12", f'Serial#: {s}{s}{s}{s}="1051017"', "", "", "",
           "Protocol information", "Protocol:", f"Protocol name{s}{s}{s}{s}CTG KM12",
           f"Number of assay repeats{s}{s}{s}{s}1", "", "Plate type:",
           f"Name of the plate type{s}{s}{s}{s}{fmt} OptiPlate", f"Number of rows{s}{s}{s}{s}{n_rows}",
           f"Number of columns{s}{s}{s}{s}{n_cols}", f"Number of the wells in the plate{s}{s}{s}{s}{fmt}",
           "", "Platemap:"]
    for p in range(1, n_plates + 1):
        out += [f"Plate{s}{s}{s}{s}{p}", f"Group{s}{s}{s}{s}1", ""]
        out += grid(n_rows, n_cols, lambda r, c: "- ", sep=s, two_digit=True)
        out[-n_rows - 1] += s
        out += ["", " - - Undefined", ""]
    out += ["Calculations:", "", "Auto export parameters:", f"Export format{s}{s}{s}{s}Plate2", "",
            "Operations:", "Plate 1", "  Group 1", "    Measurement", f"      Label{s}{s}{s}{s}US LUM(1)", "",
            "Labels:", f"US LUM {fmt}{s}{s}{s}{s}7000007", f"Measurement height{s}{s}{s}{s}0 mm", "",
            "Instrument:", f"Serial number{s}{s}{s}{s}1051017", f"Nickname{s}{s}{s}{s}EnVision", "",
            "Normalization:", "", "", "Exported with EnVision Workstation version 1.14.3049.1193", ""]
    return "\n".join(out)


def envision_384() -> None:
    out = []
    for p, bc in ((1, "KM12-CTG-01"), (2, "KM12-CTG-02")):
        calc = lambda r, c, p=p: f"{(v(r, c) + p) * 0.98:.3f}"  # noqa: E731
        raw = lambda r, c, p=p: str(v(r, c) + p)  # noqa: E731
        out += ["Plate information ", ENV_INFO_CALC,
                f'{p},1,"=""{bc}""",N/A,N/A,N/A,N/A,N/A,N/A,N/A,Calc 1: Crosstalk = Crosstalk correction where '
                f"Label : US LUM 384(1) channel 1,8/22/2023 12:16:31 PM,", "", "Background information",
                "Plate,Label,Result,Signal,Flashes/Time,Meastime,MeasInfo,",
                f"{p},US LUM 384,0,4,0.1,00:00:00.000,De=USLum Ex=N/A Em=N/A Wdw=N/A (12),", "",
                "Calculated results: Calc 1: Crosstalk = Crosstalk correction where Label : US LUM 384(1) "
                "channel 1"]
        out += grid(16, 24, calc, two_digit=True, trailing=",") + [""]
        out += ["Plate information ", ENV_INFO,
                f'{p},1,"=""{bc}""",14.67,23.47,23.56,46.9,47.5,23.87,23.97,1,US LUM 384(1),0,0,'
                f"De=USLum Ex=N/A Em=N/A Wdw=N/A (12),0,8/22/2023 12:16:31 PM,", "", "Background information",
                "Plate,Label,Result,Signal,Flashes/Time,Meastime,MeasInfo,",
                f"{p},US LUM 384,0,4,0.1,00:00:00.000,De=USLum Ex=N/A Em=N/A Wdw=N/A (12),", "",
                "Results for US LUM 384(1) - channel 0 (CPS)"]
        out += grid(16, 24, raw, two_digit=True, trailing=",") + [""]
    save("envision_lum_384_2plates.csv", "\n".join(out) + "\n" + envision_tail(2, 384))


def envision_96(name: str, sep: str, cell, encoding: str = "utf-8", newline: str = "\n") -> None:
    s = sep
    info = ENV_INFO.replace(",", s)
    out = ["Plate information ", info,
           s.join(["1", "1", '"=""CTG-96-A"""', "14,67" if s == ";" else "14.67", "23.47", "23.56", "46.9", "47.5",
                   "23.87", "23.97", "1", "US LUM 96(1)", "0", "0", "De=USLum Ex=N/A Em=N/A Wdw=N/A (12)", "0",
                   "8/22/2023 12:16:31 PM", ""]),
           "", "Background information", s.join(["Plate", "Label", "Result", "Signal", "Flashes/Time", "Meastime",
                                                  "MeasInfo", ""]),
           s.join(["1", "US LUM 96", "0", "4", "0,1" if s == ";" else "0.1", "00:00:00.000",
                   "De=USLum Ex=N/A Em=N/A Wdw=N/A (12)", ""]), "",
           "Results for US LUM 96(1) - channel 0 (CPS)"]
    out += grid(8, 12, cell, sep=s, two_digit=True, trailing=s) + [""]
    save(name, "\n".join(out) + "\n" + envision_tail(1, 96, sep=s), encoding=encoding, newline=newline)


def envision_quirks() -> None:
    def ovr(r, c):
        if (r, c) == (1, 3):
            return "OVRFLW"
        if r == 7:
            return ""  # row H not read (partial plate)
        return str(v(r, c))
    envision_96("envision_lum_96_ovrflw.csv", ",", ovr)

    def eu(r, c):
        return f"{v(r, c)},{c}" if c % 2 else str(v(r, c))
    envision_96("envision_lum_96_semicolon.csv", ";", eu, encoding="cp1252", newline="\r\n")

    # a plate read twice (assay repeats: 'Repeat' 1 and 2 in Plate information), glow decaying ~10 %
    out = []
    for rep, f in ((1, 1.0), (2, 0.9)):
        out += ["Plate information ", ENV_INFO,
                f'1,{rep},"=""CTG-96-R""",14.67,23.47,23.56,46.9,47.5,23.87,23.97,1,US LUM 96(1),0,0,'
                f"De=USLum Ex=N/A Em=N/A Wdw=N/A (12),0,8/22/2023 12:{16 + 5 * rep}:31 PM,", "",
                "Background information", "Plate,Label,Result,Signal,Flashes/Time,Meastime,MeasInfo,",
                "1,US LUM 96,0,4,0.1,00:00:00.000,De=USLum Ex=N/A Em=N/A Wdw=N/A (12),", "",
                "Results for US LUM 96(1) - channel 0 (CPS)"]
        out += grid(8, 12, lambda r, c, f=f: str(round(v(r, c) * f)), two_digit=True, trailing=",") + [""]
    tail = envision_tail(1, 96).replace("Number of assay repeats,,,,1", "Number of assay repeats,,,,2")
    save("envision_lum_96_2repeats.csv", "\n".join(out) + "\n" + tail)


# --- BMG LABTECH MARS (CLARIOstar / PHERAstar) ------------------------------------------------------------
def mars_header(n: int, id1: str, mode: str = "Luminescence", raw: str = "Raw Data (No filter)") -> list[str]:
    pad = "," * (n - 1)
    return ["User: USER,Path: C:\\Program Files (x86)\\BMG\\CLARIOstar\\User\\Data,Test run no.: 412" + "," * (n - 3),
            "Test name: CTG viability,Date: 10/16/2024,Time: 3:09:52 PM" + "," * (n - 3), pad,
            f"ID1: {id1},ID2:,ID3:" + "," * (n - 3), mode + pad, pad, raw + pad, pad]


def mars() -> None:
    def cell(r, c):
        if (r, c) == (2, 4):
            return "OVRFLW"
        if (r, c) == (5, 9):
            return ""
        return str(v(r, c))
    out = mars_header(13, "KM12_P1") + grid(8, 12, cell)
    save("mars_lum_96.csv", "\n".join(out) + "\n", newline="\r\n")
    # 1536, partial plate: only rows A, G, M, S, Y, e (MARS writes rows 27..32 as a..f)
    labels = ["A", "G", "M", "S", "Y", "e"]
    rows_idx = [0, 6, 12, 18, 24, 30]
    out = mars_header(49, "HTS_1536_P3") + [",".join([""] + [str(c) for c in range(1, 49)])]
    for lab, ri in zip(labels, rows_idx):
        out.append(lab + "," + ",".join(str(v(ri, c)) for c in range(1, 49)))
    save("mars_lum_1536_partial.csv", "\n".join(out) + "\n", newline="\r\n")


# --- Agilent / BioTek Gen5: layout grid before results, interleaved raw + normalised reads, markers ------
def gen5() -> None:
    out = ["", "", "Software Version\t3.12.08", "", "", "",
           "Experiment File Path:\tC:\\Users\\Public\\Documents\\Experiments\\CTG_M0-91.xpt",
           "Protocol File Path:\tC:\\Users\\Public\\Documents\\Protocols\\CTG_lum.prt", "", "", "",
           "Plate Number\tPlate 1", "Date\t10/10/2022", "Time\t9:15:37 PM", "Reader Type:\tSynergy H1",
           "Reader Serial Number:\t21031516", "Reading Type\tReader", "", "Procedure Details", "",
           "Plate Type\t96 WELL PLATE (Use plate lid)", "Eject plate on completion\t",
           "Set Temperature\tSetpoint 25°C",
           "Read\tLUM", "\tLuminescence Endpoint", "\tFull Plate", "\tIntegration Time: 0:01.00 (MM:SS.ss)",
           "\tFilter Set 1", "\t    Emission: Full light", "\t    Optics: Top,  Gain: 135",
           "\tRead Speed: Normal,  Delay: 100 msec", "\tExtended Dynamic Range", "\tRead Height: 4.5 mm", "",
           "Layout", "\t" + "\t".join(str(c) for c in range(1, 13))]
    for r in range(8):
        out.append(ROWS[r] + "\t" + "\t".join(f"SPL{r * 12 + c}" for c in range(1, 13)) + "\tWell ID")
    out += ["", "Results", "\t" + "\t".join(str(c) for c in range(1, 13))]
    for r in range(8):
        vals = [str(v(r, c)) for c in range(1, 13)]
        if r == 1:
            vals[2] = "OVRFLW"
        if r == 3:
            vals[11] = "MISSED"
        if r == 4:
            vals[5] = ""
        out.append(ROWS[r] + "\t" + "\t".join(vals) + "\tLUM:Lum")
        out.append("\t" + "\t".join(f"{v(r, c) / 80:.3f}" for c in range(1, 13)) + "\tNormLum")
    save("gen5_lum_96.txt", "\n".join(out) + "\n\n", encoding="cp1252", newline="\r\n")
    # two filter sets, each with blank-subtracted, ratio, delta and normalised rows under every well row
    i = out.index("Procedure Details")
    head = out[: i + 2] + ["Plate Type\t96 WELL PLATE (Use plate lid)", "Read\tFluor", "\tFluorescence Endpoint",
                           "\tFull Plate", "\tFilter Set 1 (Blue)", "\t    Excitation: 360/40,  Emission: 460/40",
                           "\t    Mirror: Top 400 nm,  Gain: 35", "\tFilter Set 2 (Green)",
                           "\t    Excitation: 485/20,  Emission: 528/20", "\t    Mirror: Top 510 nm,  Gain: 35",
                           "\tRead Height: 7 mm", ""]
    res = ["Results", "\t" + "\t".join(str(c) for c in range(1, 13))]
    for r in range(8):
        ratio = ["1.000"] * 12
        if r == 2:
            ratio[4] = "?????"
        res.append(ROWS[r] + "\t" + "\t".join(str(v(r, c)) for c in range(1, 13)) + "\tFluor:360/40,460/40")
        res.append("\t" + "\t".join(str(v(r, c) + 500) for c in range(1, 13)) + "\tFluor:485/20,528/20")
        res.append("\t" + "\t".join(str(v(r, c) - 900) for c in range(1, 13)) + "\tBlank Fluor:360/40,460/40")
        res.append("\t" + "\t".join(ratio) + "\tRatio")
        res.append("\t" + "\t".join("0.5" for _ in range(12)) + "\tNormalized Data")
    save("gen5_fl_96_two_filters.txt", "\n".join(head + res) + "\n\n", newline="\r\n")


# --- Molecular Devices SoftMax Pro ------------------------------------------------------------------------
def softmax() -> None:
    hdr = ["Plate:", "CTG_IMS-M2", "1.3", "PlateFormat", "Endpoint", "Luminescence", "Raw", "FALSE", "1", "", "",
           "", "", "", "1", "560", "1", "12", "96", "", "", "", "", "", "1", "", "", "", "1", "8"]
    out = ["##BLOCKS= 1", "\t".join(hdr), "\tTemperature(°C)\t" + "\t".join(str(c) for c in range(1, 13)) + "\t\t"]
    for r in range(8):
        vals = [f"{v(r, c)},{c}" for c in range(1, 13)]
        if r == 1:
            vals[2] = "#Sat"
        if r == 2:
            vals[3] = ""
        out.append(("\t24,8\t" if r == 0 else "\t\t") + "\t".join(vals) + "\t")
    out += ["", "~End", "Original Filename: CTG_IMS-M2; Date Last Saved: 10/10/2022 9:15:37 PM"]
    save("softmax_lum_96_utf16.txt", "\n".join(out) + "\n", encoding="utf-16", newline="\r\n")
    # Mac SoftMax Pro: Mac-Roman text (the degree sign is byte 0xA1), CR line ends, absorbance, 2 wavelengths
    hdr = ["Plate:", "Plate1", "1.3", "PlateFormat", "Endpoint", "Absorbance", "Raw", "FALSE", "1", "", "", "",
           "", "", "2", "450 650", "1", "12", "96", "1", "8"]
    head = "\tTemperature(°C)\t" + "\t".join(str(c) for c in range(1, 13)) + "\t\t" + \
           "\t".join(str(c) for c in range(1, 13)) + "\t"
    out = ["##BLOCKS= 1", "\t".join(hdr), head]
    for r in range(8):
        a = "\t".join(f"{v(r, c) / 10000:.4f}" for c in range(1, 13))
        b = "\t".join(f"{c / 1000:.4f}" for c in range(1, 13))
        out.append(("\t22.0\t" if r == 0 else "\t\t") + a + "\t\t" + b + "\t")
    out += ["", "~End", "Original Filename: abs; Date Last Saved: 3/1/2021 10:00:00 AM"]
    save("softmax_abs_macroman.txt", "\n".join(out) + "\n", encoding="mac_roman", newline="\r")


# --- Tecan -------------------------------------------------------------------------------------------------
def tecan() -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet2"
    rows = [["Application: Tecan i-control"], ["Tecan i-control ", None, None, None, "3.9.1.0"],
            ["Device: Spark", None, None, None, "Serial number: 1912002345"], ["Firmware: 2.1.2"], [],
            ["Date:", "2024-05-14"], ["Time:", "10:41:22"], [],
            ["System", "SPARK-LAB-2"], ["User", "LAB\\jdoe"], ["Plate", "Corning 96 Flat Bottom White Polystyrene "
                                                                  "Cat. No.: 3917 [COR96fw.pdfx]"],
            ["Plate-ID (Stacker)", None], [], ["Mode", "Luminescence"], ["Attenuation", "Automatic"],
            ["Integration Time", 1000, "ms"], ["Settle Time", 0, "ms"], ["Name", "Label1"],
            ["Start Time:", "2024-05-14 10:41:25"], [], ["Temperature: 24.6 °C"],
            ["<>", *range(1, 13)]]
    for r in range(8):
        vals: list[object] = [v(r, c) for c in range(1, 13)]
        if r == 0:
            vals[0] = "OVER"
        if r == 6:
            vals[6] = None
        rows.append([ROWS[r], *vals])
    rows += [[], ["End Time:", "2024-05-14 10:42:01"]]
    for row in rows:
        ws.append(row)
    save_xlsx("tecan_spark_lum_96.xlsx", wb)

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Well positions", "Raw data", "Plate"])
    for r in range(8):
        for c in range(1, 13):
            ws.append([f"{ROWS[r]}{c}", v(r, c) + 0.5, "CTG-TEC-1"])
    ws.append([])
    for line in ["Date of measurement: 2024-05-14/Time of measurement: 10:12:45", "Magellan Pro 7.5",
                 "jdoe", "Infinite 200Pro", "Serial number: 1510004321", "Measurement mode: Luminescence",
                 "Integration time: 1000 ms", "Plate definition file: COR96fw.pdfx"]:
        ws.append([line])
    save_xlsx("tecan_magellan_lum_96.xlsx", wb)


def tecan_xls() -> None:
    """Tecan i-control 1.x on an Infinite M200 saved its results as an old binary Excel (.xls) workbook."""
    try:
        import xlwt  # only to write this fixture (labkit reads .xls with xlrd); not a labkit dependency
    except ImportError:
        print("tecan_icontrol_lum_96.xls not rewritten: xlwt is not installed (see README.md)")
        return

    wb = xlwt.Workbook()
    ws = wb.add_sheet("Sheet1")
    rows = [["Application: Tecan i-control"], ["Tecan i-control ", None, None, None, "1.10.4.0"],
            ["Device: infinite 200", None, None, None, "Serial number: 1006005678"], ["Firmware: V_3.37_07/12"],
            [], ["Date:", "14/05/2024"], ["Time:", "10:41:22"], [], ["Mode", "Luminescence"],
            ["Integration Time", 1000, "ms"], ["Name", "Label1"], [], ["<>", *range(1, 13)]]
    for r in range(8):
        vals: list[object] = [float(v(r, c)) for c in range(1, 13)]
        if r == 0:
            vals[0] = "OVER"
        if r == 6:
            vals[6] = None
        rows.append([ROWS[r], *vals])
    rows += [[], ["End Time:", "14/05/2024 10:42:01"]]
    for i, row in enumerate(rows):
        for j, val in enumerate(row):
            if val is not None:
                ws.write(i, j, val)
    buf = io.BytesIO()
    wb.save(buf)
    (HERE / "tecan_icontrol_lum_96.xls").write_bytes(buf.getvalue())


# --- generic grids and long tables --------------------------------------------------------------------------
def generic() -> None:
    def blanks(r, c):
        return "" if (r, c) in ((0, 1), (7, 12)) else str(v(r, c))
    save("grid_96_labelled.csv", "\n".join(["Signal"] + grid(8, 12, blanks)) + "\n")
    save("grid_384.tsv", "\n".join(grid(16, 24, lambda r, c: f" {v(r, c)} ", sep="\t")) + "\n")
    save("grid_bare_96.csv", "\n".join(",".join(str(v(r, c)) for c in range(1, 13)) for r in range(8)) + "\n")
    # 1536 grid with AA..AF labels, only rows Y..AF read
    labels = list(ROWS) + ["AA", "AB", "AC", "AD", "AE", "AF"]
    head = "," + ",".join(str(c) for c in range(1, 49))
    body = [labels[r] + "," + ",".join(str(v(r, c)) if r >= 24 else "" for c in range(1, 49)) for r in range(32)]
    save("grid_1536_AA.csv", "\n".join([head] + body) + "\n")
    # two plates, marked 'Plate: X', each with a layout grid (names), a raw grid and a ratio grid
    out = ["Assay,CTG viability", ""]
    for p in ("P1", "P2"):
        out += [f"Plate: {p}", "", "Layout"] + grid(8, 12, lambda r, c: f"S{r * 12 + c}") + [""]
        out += ["Luminescence (RLU)"] + grid(8, 12, lambda r, c, p=p: str(v(r, c) + (p == "P2") * 5)) + [""]
        out += ["Ratio to vehicle (%)"] + grid(8, 12, lambda r, c: "50.0") + [""]
    save("grid_2plates_blocks.csv", "\n".join(out) + "\n")
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Results"
    ws.append(["Plate", "XL-01"])
    ws.append([])
    ws.append(["RLU"])
    ws.append([None, *range(1, 13)])
    for r in range(8):
        ws.append([ROWS[r], *[v(r, c) for c in range(1, 13)]])
    save_xlsx("grid_96.xlsx", wb)
    # long tables
    out = ["Plate,Well,Signal,Comment"]
    for r in range(8):
        for c in range(1, 13):
            val = str(v(r, c))
            if (r, c) == (0, 3):
                val = "Saturated"
            if (r, c) == (0, 4):
                val = "N/A"
            if (r, c) == (0, 5):
                val = ""
            out.append(f"LT-1,{ROWS[r]}{c:02d},{val},")
    save("long_wells.csv", "\n".join(out) + "\n")
    out = ["Row;Column;RLU"] + [f"{ROWS[r]};{c};{v(r, c)},25" for r in range(8) for c in range(1, 13)]
    save("long_rowcol_semicolon.csv", "\n".join(out) + "\n")
    # a long table with two numeric columns that could each be the value: labkit must not guess
    out = ["plate_barcode,well,scan_id,intensity,read_time"]
    out += [f"SCAN-7,{ROWS[r]}{c},{r * 12 + c},{v(r, c)}.5,2024-05-14T10:{r:02d}:{c:02d}"
            for r in range(8) for c in range(1, 13)]
    save("long_scan_intensity.csv", "\n".join(out) + "\n")
    # a 1536-well long table (rows A..AF, zero-padded columns), one measured quadrant only
    labels = list(ROWS) + ["AA", "AB", "AC", "AD", "AE", "AF"]
    out = ["Plate,Well,RLU"] + [f"HTS-1536-01,{labels[r]}{c:02d},{v(r, c)}" for r in range(32) for c in range(1, 49)
                                if r % 2 == 1 and c % 2 == 0]
    save("long_1536_quadrant.csv", "\n".join(out) + "\n")


# --- bad input -----------------------------------------------------------------------------------------------
def bad() -> None:
    (HERE / "bad_empty.csv").write_bytes(b"")
    (HERE / "bad_whitespace.csv").write_bytes(b"  \r\n\r\n\t\r\n")
    rng = random.Random(4)
    (HERE / "bad_binary.dat").write_bytes(bytes(rng.randrange(256) for _ in range(3000)))
    (HERE / "bad_old_excel.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500))
    save("bad_unrecognised.txt", "Dear all,\nplease find the counts attached.\nBest, J.\n")
    save("bad_layout_only.csv", "\n".join(["Layout"] + grid(8, 12, lambda r, c: f"S{c}")) + "\n")
    text = (HERE / "envision_lum_384_2plates.csv").read_text()
    cut = text.index("Results for US LUM 384(1)")
    cut = text.index("\nF,", cut) + 40  # in the middle of row F of plate 1's results
    (HERE / "bad_truncated_envision.csv").write_text(text[:cut])
    text = (HERE / "microbeta2_grid_2plates.csv").read_bytes()
    (HERE / "bad_truncated_microbeta.csv").write_bytes(text[: text.index(b"\r\nD,") + 30])
    (HERE / "bad_zip.xlsx").write_bytes(b"PK\x03\x04" + bytes(200))
    # counter lists that end cleanly at a line break before the plate's last well (truncated copies / exports)
    text = (HERE / "trilux_list_positions.txt").read_bytes()
    (HERE / "bad_short_trilux_list.txt").write_bytes(text[: text.index(b"\n1\t49\t") + 1])  # positions 1-48
    text = (HERE / "topcount_columns.001").read_bytes()
    second = text.index(b"  1 ,", 10)  # the second cycle starts again at position 1
    (HERE / "bad_short_topcount_columns.001").write_bytes(text[: text.index(b" 61 ,", second)])  # cycle 2: 1-60
    text = (HERE / "topcount_list.csv").read_bytes()
    (HERE / "bad_short_topcount_list.csv").write_bytes(text[: text.index(b"\r\nH07,") + 2])  # plate 1 ends at H06


if __name__ == "__main__":
    microbeta2_grid()
    microbeta_eu()
    topcount_list()
    topcount_plate()
    topcount_kinetic()
    topcount_columns()
    trilux_positions()
    envision_384()
    envision_quirks()
    mars()
    gen5()
    softmax()
    tecan()
    tecan_xls()
    generic()
    bad()
