"""What a CSV file's first lines say about it: its separator, decimal mark and header, the
kind of each column, and whether it is CSV text at all.

The separator is the one of ``,`` ``;`` tab ``|`` that splits the first lines into the
same number of fields; the decimal mark is a comma for ``;``-separated files whose
numbers are written ``20,35``; the first line is a header when it names columns that
hold numbers below it. Files that are not UTF-8 CSV text (gzip on stdin, zip, Parquet,
UTF-16, old Mac line ends) are refused with one line saying what they are. The lines are split
by Python's csv module; the file itself is parsed by polars
(:mod:`aekit.tables.csv_blocks`).
"""

import csv
import re

from ..errors import DataError

SEPARATORS = (",", ";", "\t", "|")
# read as missing: pandas' default missing-value words (pandas.read_csv's na_values)
MISSING_WORDS = ("", "NaN", "nan", "-NaN", "-nan", "NA", "N/A", "n/a", "#N/A", "#N/A N/A",
                 "#NA", "<NA>", "null", "NULL", "None", "1.#IND", "-1.#IND", "1.#QNAN",
                 "-1.#QNAN")
SNIFF_LINES = 5
BOM = b"\xef\xbb\xbf"  # UTF-8's byte-order mark, as Excel's "CSV UTF-8" writes it
COUNTED_HEADER_MIN = 8  # columns; a narrower first row 0,1,2 is as likely to be data
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d*,\d+\s*$")
_SMALL_INTEGER = re.compile(r"^\s*[-+]?\d{1,9}\s*$")  # fits int32: exact in float64
_BYTE = re.compile(r"^(25[0-5]|2[0-4]\d|1\d\d|\d\d?)$")  # 0..255, as pixels are written
_WHOLE = re.compile(r"^[-+]?\d+\.?0*$")  # a whole number, as 7, 7. or 7.00 write it


def is_number(cell, decimal="."):
    """Whether a CSV cell reads as a number (or as a missing value)."""
    cell = cell.strip().strip('"').strip()
    if cell in MISSING_WORDS:
        return True
    if decimal != ".":
        cell = cell.replace(decimal, ".")
    try:
        float(cell)
        return True
    except ValueError:
        return False


def split_line(line, sep):
    """The fields of one record ``line`` split at ``sep`` (quotes respected). A bare
    carriage return, which the csv module refuses outside quotes, is read as a space."""
    return next(iter(csv.reader([line.replace("\r", " ")], delimiter=sep)), [])


def sniff_separator(lines):
    """The separator splitting the first line and most of the sampled ones into the same
    number (> 1) of fields, the one giving the most fields; "," when there is none (a
    single column). A row of the wrong width among them is then refused by line."""
    best, fields = ",", 1
    for sep in SEPARATORS:
        counts = [len(split_line(line, sep)) for line in lines]
        n = counts[0]
        if n > fields and counts.count(n) > len(counts) / 2:
            best, fields = sep, n
    return best


def sniff_decimal(lines, sep):
    """"," when a ``;``-style file writes its numbers with decimal commas, else "."."""
    if sep == ",":
        return "."
    cells = [c for line in lines for c in split_line(line, sep)]
    return "," if any(_DECIMAL_COMMA.match(c) for c in cells) else "."


def counts_columns(first, second=None, decimal="."):
    """Whether a first row reads 0, 1, 2... or 1, 2, 3...: the names pandas and R give
    unnamed columns, written as a header (``pd.DataFrame(X).to_csv()`` writes 0,1,2,3,4).
    A row of fewer than :data:`COUNTED_HEADER_MIN` cells counts only above a ``second``
    row that holds a number with a fraction, which no data row of whole numbers 0, 1, 2
    would sit above."""
    counted = [c.strip() for c in first]
    if len(first) < 2 or counted not in (
            [str(i) for i in range(len(first))], [str(i) for i in range(1, len(first) + 1)]):
        return False
    if len(first) >= COUNTED_HEADER_MIN:
        return True
    return bool(second) and len(second) == len(first) and any(
        is_number(c, decimal) and not _WHOLE.match(c.strip()) for c in second)


def may_name_columns(first, second, decimal="."):
    """Whether a first row read as data (all numbers) might yet be a header: distinct whole
    numbers (years, sensor ids) above a row with a fraction in a column, as no row of
    whole-number data would likely sit above (``2019,2020,2021`` over ``101.5,99.2,...``).
    Such a row is still read as data; this says it is worth a note."""
    cells = [c.strip() for c in first]
    if len(cells) < 2 or len(set(cells)) < len(cells) or \
            not all(_WHOLE.match(c) for c in cells):
        return False
    return bool(second) and len(second) == len(first) and any(
        is_number(c, decimal) and not _WHOLE.match(c.strip()) for c in second)


def looks_like_header(first, second, decimal):
    """Whether the first row names the columns: some column has a name above a number, no
    cell of the first row is a number, or it counts the columns (:func:`counts_columns`)."""
    numeric = [is_number(c, decimal) for c in first]
    if counts_columns(first, second, decimal):
        return True
    if all(numeric):
        return False
    if second and len(second) == len(first):
        if any(not n and is_number(c, decimal) and c.strip() not in MISSING_WORDS
               for n, c in zip(numeric, second)):
            return True
    return not any(numeric)


def column_kinds(rows, n_columns, decimal):
    """How to parse each column at first, from sample data rows (lists of cells):
    "byte" when every sampled cell is a whole number 0..255 (pixels), "int" when each is
    a whole number that fits 32 bits (both parsed fastest, and exact), "float" when each
    is a number or empty, else "text". A parser widens a column (byte, int, float,
    text) where later rows need it."""
    kinds = []
    for j in range(n_columns):
        cells = [r[j] for r in rows if len(r) == n_columns]
        if all(_BYTE.match(c) for c in cells):
            kinds.append("byte")
        elif all(_SMALL_INTEGER.match(c) for c in cells):
            kinds.append("int")
        elif all(c.strip() in ("", "nan", "NaN") or
                 (c.strip() not in MISSING_WORDS and is_number(c, decimal)) for c in cells):
            kinds.append("float")
        else:
            kinds.append("text")
    return kinds


IMAGE = ("an image (PNG, JPEG, GIF, TIFF, BMP or WebP), not a table: this command reads CSV or "
         "Parquet tables; aekit denoise reads images (PNG, JPEG, GIF, TIFF, BMP, PPM)")
IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*")  # PNG ... TIFF
# the first bytes of files that are not UTF-8 CSV text, looked at in this order (UTF-32's
# byte-order marks before UTF-16's, which begin the same)
MAGIC = {b"\x1f\x8b": "gzip-compressed: decompress it first (gunzip), or give the file by name",
         b"PAR1": "a Parquet file: name it .parquet",
         b"PK\x03\x04": "a zip archive (an Excel workbook?): export it as CSV first",
         b"\xff\xfe\x00\x00": "UTF-32 text: save it as UTF-8",
         b"\x00\x00\xfe\xff": "UTF-32 text: save it as UTF-8",
         b"\xff\xfe": "UTF-16 text: save it as UTF-8", b"\xfe\xff": "UTF-16 text: save it as UTF-8"}


def _is_image(head):
    """Whether a file's first bytes are an image's: PNG, JPEG, GIF, TIFF (their magic), BMP
    ("BM" and 4 reserved zero bytes) or WebP (a RIFF of WEBP)."""
    return head.startswith(IMAGE_MAGIC) or (head[:2] == b"BM" and head[6:10] == b"\x00" * 4) \
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def refuse_other_formats(name, head):
    """One clear line for files that are not UTF-8 CSV text at all."""
    if _is_image(head):
        raise DataError(f"{name} is {IMAGE}")
    for magic, what in MAGIC.items():
        if head.startswith(magic):
            raise DataError(f"{name} is {what}")
    if b"\x00" in head:  # no text holds NUL bytes; UTF-16 and UTF-32 text is full of them
        raise DataError(f"{name} holds NUL bytes, which no CSV text holds: UTF-16 or UTF-32 "
                        "text without a byte-order mark, or not text at all? Save it as "
                        "UTF-8 CSV")
    if b"\r" in head and b"\n" not in head and head.count(b"\r") > 1:
        raise DataError(f"{name} ends its lines with a carriage return alone (old Mac "
                        "files): convert its line ends to \\n or \\r\\n first")


def not_utf8(source, line=None):
    """The error for a file that is not UTF-8 text (at ``line``, where known): what it
    is, and how a user makes it readable (spreadsheets export other encodings)."""
    at = f" (line {line})" if line is not None else ""
    return DataError(f"{source} is not UTF-8 text{at}: aekit reads CSV files in UTF-8; save "
                     "it as UTF-8 (Excel: 'CSV UTF-8')")
