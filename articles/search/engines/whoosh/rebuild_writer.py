"""A Whoosh segment writer for full rebuilds that keeps its postings in memory.

Stock SegmentWriter sends every posting through a PostingPool that pickles
sorted runs to disk once past its memory limit and merges them back with
heapq at commit, and at commit reads each posting's field length back from
the length column it has just written. A rebuild adds documents once, in
order, to a fresh segment, so here postings are grouped by (field, term) in
compact arrays, written in sorted order a term at a time with the lengths
kept in memory, and the segment is flushed (a new one started) whenever the
pool passes its memory limit. The files written are those the stock writer
writes for the same documents (tests/test_rebuild.py compares them).
"""
import zlib
from array import array
from pickle import dumps

from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3FieldWriter, W3PostingsWriter, W3TermInfo
from whoosh.fields import FieldType
from whoosh.formats import Frequency, Positions
from whoosh.system import pack_int, pack_uint, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

from articles.search.engines.whoosh import analysis, posting_arrays

# Estimated bytes a posting costs in the pool besides its value's bytes
# (docnum, weight and value end, with the arrays' spare room), and a term's
# entry (dict slot, tuple, three arrays, a bytearray, the term's bytes).
POSTING_OVERHEAD = 20
TERM_OVERHEAD = 600
DEFAULT_POOL_LIMIT_MB = 512


class _NoPool:
    """Stands in for the stock pool, which this writer never fills."""

    fieldnames = frozenset()

    def add(self, item):
        raise NotImplementedError("RebuildWriter adds postings itself")

    def cleanup(self):
        pass


class RebuildWriter(SegmentWriter):
    """Writes new documents into one or more new segments (it never merges or
    deletes): `segments()` after `finish()` lists them; `commit()` commits them
    with whatever the merge policy keeps (CLEAR: only them)."""

    def __init__(self, ix, pool_limit_mb=DEFAULT_POOL_LIMIT_MB, **kwargs):
        kwargs.pop("limitmb", None)
        kwargs.setdefault("_lk", False)
        super().__init__(ix, **kwargs)
        for name in self.schema.names():
            if self.schema[name].separate_spelling():
                raise ValueError(f"field {name!r} has a separate spelling field: use SegmentWriter")
        self.pool_limit = pool_limit_mb * 1024 * 1024
        self._compound_option = kwargs.get("compound", True)
        self.finished_segments = []
        self._arabic_fields = {
            name: _arabic_word_values(self.schema[name])
            for name in self.schema.names()
            if _analysed_by_arabic_analyzer(self.schema[name])
        }
        self._start_pool()

    def _start_pool(self):
        self.pool = _NoPool()
        # fieldname -> {btext: (docnums, weights, value ends, values joined)}
        self._postings = {}
        # fieldname -> bytearray of length bytes by docnum (only fields with a length)
        self._lengths = {}
        self._pool_bytes = 0
        # The segment's postings as plain arrays too (articles.search.posting_arrays).
        self._arrays = posting_arrays.ArraysWriter()

    def _new_segment(self):
        codec = self.codec
        self.newsegment = codec.new_segment(self.storage, self.indexname)
        self.compound = self._compound_option and self.newsegment.should_assemble()
        self.perdocwriter = codec.per_document_writer(self.storage, self.newsegment)
        self.fieldwriter = codec.field_writer(self.storage, self.newsegment)
        self.docnum = self.docbase = 0
        self._added = False
        self._start_pool()

    # Adding -------------------------------------------------------------------

    def add_document(self, **fields):
        """SegmentWriter.add_document, with the postings kept in the pool's arrays."""
        self._check_state()
        perdocwriter = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        postings = self._postings
        added_bytes = 0

        docboost = self._doc_boost(fields)
        fieldnames = sorted(name for name in fields.keys() if not name.startswith("_"))
        self._check_fields(schema, fieldnames)

        perdocwriter.start_doc(docnum)
        try:
            for fieldname in fieldnames:
                value = fields.get(fieldname)
                if value is None:
                    continue
                field = schema[fieldname]

                length = 0
                if field.indexed:
                    fieldboost = self._field_boost(fields, fieldname, docboost)
                    scorable = field.scorable
                    terms = postings.get(fieldname)
                    if terms is None:
                        terms = postings[fieldname] = {}
                    if fieldname in self._arabic_fields and isinstance(value, str):
                        items = self._arabic_fields[fieldname](value)
                    else:
                        items = field.index(value)
                    for tbytes, freq, weight, vbytes in items:
                        weight *= fieldboost
                        if scorable:
                            length += freq
                        entry = terms.get(tbytes)
                        if entry is None:
                            entry = terms[tbytes] = (array("I"), array("d"), array("I"), bytearray())
                            added_bytes += TERM_OVERHEAD + len(tbytes)
                        entry[0].append(docnum)
                        entry[1].append(weight)
                        if vbytes:
                            joined = entry[3]
                            joined += vbytes
                            entry[2].append(len(joined))
                            added_bytes += POSTING_OVERHEAD + len(vbytes)
                        else:
                            entry[2].append(len(entry[3]))
                            added_bytes += POSTING_OVERHEAD

                if field.vector:
                    raise ValueError(f"field {fieldname!r} stores vectors: use SegmentWriter")

                customval = fields.get("_stored_%s" % fieldname, value)
                sv = customval if field.stored else None
                perdocwriter.add_field(fieldname, field, sv, length)
                if length:
                    lengths = self._lengths.get(fieldname)
                    if lengths is None:
                        lengths = self._lengths[fieldname] = bytearray()
                    if len(lengths) < docnum:
                        lengths.extend(bytes(docnum - len(lengths)))
                    lengths.append(length_to_byte(length))

                column = field.column_type
                if column and customval is not None:
                    cv = field.to_column_value(customval)
                    perdocwriter.add_column_value(fieldname, column, cv)
        except Exception:
            perdocwriter.cancel_doc()
            raise

        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1
        self._pool_bytes += added_bytes
        if self._pool_bytes > self.pool_limit:
            self.flush()

    # Writing --------------------------------------------------------------------

    def flush(self):
        """Write what the pool holds as a finished segment and start a new one."""
        if self._added:
            self.finished_segments.append(self._finalize_segment())
            self._new_segment()

    def _finish_last_segment(self):
        if self._added:
            self.finished_segments.append(self._finalize_segment())
        else:
            self._close_segment()

    def _length_table(self, fieldname, doccount):
        """What the segment's length column answers for each docnum, as
        W3PerDocReader.doc_field_length does (None for a length byte 0)."""
        lengths = self._lengths.get(fieldname)
        if lengths is None:
            return None
        decoded = [None] * doccount
        for docnum, lbyte in enumerate(lengths):
            if lbyte:
                decoded[docnum] = byte_to_length(lbyte)
        return decoded

    def _flush_segment(self):
        self.perdocwriter.close()
        fieldwriter = self.fieldwriter
        schema = self.schema
        doccount = self.docnum
        for fieldname in sorted(self._postings):
            terms = self._postings[fieldname]
            if not terms:
                continue
            lengths = self._length_table(fieldname, doccount) if self.codec.length_stats else None
            fieldwriter.start_field(fieldname, schema[fieldname])
            postwriter = fieldwriter._postwriter
            if _can_write_terms_directly(fieldwriter, postwriter):
                _write_terms(fieldwriter, postwriter, terms, lengths, self._arrays)
            else:
                for btext in sorted(terms):
                    docnums, weights, value_ends, joined = terms[btext]
                    fieldwriter.start_term(btext)
                    _fill_postings(fieldwriter._postwriter, docnums, weights, value_ends, joined, lengths)
                    fieldwriter.finish_term()
            fieldwriter.finish_field()
            # Free each field's postings once written.
            self._postings[fieldname] = {}
        fieldwriter.close()

    def _finalize_segment(self):
        # After the segment's files are assembled into its compound file,
        # which takes in every file named after the segment.
        segment = super()._finalize_segment()
        folder = getattr(self.storage, "folder", None)
        if folder is not None and self._arrays.ids:
            self._arrays.write(folder, segment.segment_id())
        return segment

    def finish(self):
        """Flush the last segment and close; returns the segments written.
        For a sub-writer: the temporary storage, which the parent writer
        shares, is left for the parent to remove."""
        self._check_state()
        self._finish_last_segment()
        self.is_closed = True
        return list(self.finished_segments)

    def commit(self, mergetype=None, optimize=None, merge=None):
        self._check_state()
        finalsegments = self._merge_segments(mergetype, optimize, merge)
        self._finish_last_segment()
        self._commit_toc(finalsegments + self.finished_segments)
        self._finish()


def _fill_postings(postwriter, docnums, weights, value_ends, joined, lengths):
    """Hand one term's postings to a W3PostingsWriter block by block, leaving
    it in the state its add_posting() calls would have (the last block still
    buffered for finish_postings()). Values are cut out of `joined` as new
    bytes objects, as stock Whoosh's pool hands them over (the block pickle
    would refer back to an object it met twice)."""
    limit = postwriter._blocklimit
    count = len(docnums)
    for start in range(0, count, limit):
        if start:
            postwriter._write_block()
        end = start + limit
        block_ids = docnums[start:end]
        block_weights = weights[start:end]
        postwriter._ids = block_ids
        postwriter._weights = array("f", block_weights)
        maxweight = max(block_weights)
        postwriter._maxweight = maxweight if maxweight > 0 else 0
        values = []
        previous = value_ends[start - 1] if start else 0
        for value_end in value_ends[start:end]:
            if value_end > previous:
                values.append(bytes(joined[previous:value_end]))
                previous = value_end
        postwriter._values = values
        if lengths is not None:
            block_lengths = [n for n in (lengths[d] for d in block_ids) if n]
            if block_lengths:
                postwriter._minlength = min(block_lengths)
                postwriter._maxlength = max(block_lengths)


def _analysed_by_arabic_analyzer(field):
    return (
        type(field).index is FieldType.index
        and type(field.analyzer) is analysis.ArabicAnalyzer
        and type(field.format) in (Positions, Frequency)
    )


def _arabic_word_values(field):
    """field.index(value) for a field analysed by ArabicAnalyzer, computed
    from the analyzer's cached words and terms without a Token per term:
    the same (btext, frequency, weight, value) tuples, the weights summed in
    the same order (Positions/Frequency.word_values, ArabicAnalyzer.__call__)."""
    form = field.analyzer.form
    field_boost = field.format.field_boost
    words = analysis.words
    terms_of = analysis.terms
    single_position = {}

    if type(field.format) is Positions:
        encode = field.format.encode
        one = pack_uint(1)

        def index(value):
            positions = {}
            weights = {}
            for pos, (_start, _end, readings) in enumerate(words(value)):
                for term, boost in terms_of(readings, form):
                    found = positions.get(term)
                    if found is None:
                        positions[term] = [pos]
                        weights[term] = 0.0 + boost
                    else:
                        found.append(pos)
                        weights[term] += boost
            for term, found in positions.items():
                if len(found) == 1:
                    # A new bytes object each time, as encode() makes: the
                    # block pickle would otherwise refer back to a shared one.
                    pos = found[0]
                    tail = single_position.get(pos)
                    if tail is None:
                        tail = single_position[pos] = dumps([pos], 2)
                    vbytes = one + tail
                else:
                    vbytes = encode(found)
                yield term.encode("utf-8"), len(found), weights[term] * field_boost, vbytes

    else:

        def index(value):
            freqs = {}
            weights = {}
            for _start, _end, readings in words(value):
                for term, boost in terms_of(readings, form):
                    if term in freqs:
                        freqs[term] += 1
                        weights[term] += boost
                    else:
                        freqs[term] = 1
                        weights[term] = 0.0 + boost
            for term, freq in freqs.items():
                yield term.encode("utf-8"), freq, weights[term] * field_boost, pack_uint(freq)

    return index


def _can_write_terms_directly(fieldwriter, postwriter):
    return (
        type(fieldwriter) is W3FieldWriter
        and type(postwriter) is W3PostingsWriter
        and not postwriter._byteids
        and postwriter._inlinelimit <= 1
    )


def _write_terms(fieldwriter, postwriter, terms, lengths, arrays):
    """What start_term(), add_posting() for each posting and finish_term()
    write for each term, in sorted order, without the per-posting and
    per-block method calls: the same blocks (W3PostingsWriter._write_block)
    and term infos (W3TermInfo.add_block, to_bytes), byte for byte. Each
    term's postings also go to `arrays` (a posting_arrays.ArraysWriter)."""
    postfile = fieldwriter._postfile
    tell = postfile.tell
    write = postfile.write
    add_term = fieldwriter._tindex.add
    fieldprefix = pack_ushort(fieldwriter._fieldid)
    limit = postwriter._blocklimit
    compression = postwriter._compression
    fixedsize = fieldwriter._format.fixed_value_size()
    add_ids, add_weights, add_term_arrays = arrays.ids.extend, arrays.weights.extend, arrays.add_term
    for btext in sorted(terms):
        docnums, weights, value_ends, joined = terms[btext]
        info = W3TermInfo()
        startoffset = tell()
        write(WHOOSH3_HEADER_MAGIC)
        count = len(docnums)
        previous = 0
        wide = False
        for start in range(0, count, limit):
            end = start + limit
            ids = docnums[start:end]
            block_weights = array("f", weights[start:end])
            add_ids(ids)
            add_weights(block_weights)
            maxweight = max(weights[start:end])
            if not maxweight > 0:
                maxweight = 0
            values = []
            for value_end in value_ends[start:end]:
                if value_end > previous:
                    values.append(bytes(joined[previous:value_end]))
                    previous = value_end
            minlength = None
            maxlength = 0
            if lengths is not None:
                block_lengths = [n for n in (lengths[d] for d in ids) if n]
                if block_lengths:
                    minlength = min(block_lengths)
                    maxlength = max(block_lengths)

            # W3TermInfo.add_block
            info._weight += sum(block_weights)
            info._df += len(ids)
            if info._minlength is None:
                info._minlength = minlength
            else:
                info._minlength = min(info._minlength, minlength)
            info._maxlength = max(info._maxlength, maxlength)
            info._maxweight = max(info._maxweight, maxweight)
            if info._minid is None:
                info._minid = ids[0]
            info._maxid = ids[-1]

            # W3PostingsWriter._write_block
            if all(w == 1.0 for w in block_weights):
                mini_weights = None
            elif all(w == block_weights[0] for w in block_weights):
                mini_weights = block_weights[0]
            else:
                mini_weights = tuple(block_weights)
                wide = True
            if fixedsize is None or fixedsize < 0:
                mini_values = tuple(values)
            elif fixedsize == 0:
                mini_values = None
            else:
                mini_values = b"".join(values)
            base = 0
            deltas = []
            for docnum in ids:
                deltas.append(docnum - base)
                base = docnum
            databytes = dumps((tuple(deltas), mini_weights, mini_values), 2)
            if compression:
                databytes = zlib.compress(databytes, compression)
            infobytes = dumps(
                (len(ids), ids[-1], maxweight, compression, length_to_byte(minlength), length_to_byte(maxlength)),
                2,
            )
            blocklength = len(infobytes) + len(databytes)
            if end >= count:
                blocklength = -blocklength
            write(pack_int(blocklength))
            write(infobytes)
            write(databytes)

        info.set_extent(startoffset, tell() - startoffset)
        add_term(fieldprefix + btext, info.to_bytes())
        add_term_arrays(startoffset, count, wide)
