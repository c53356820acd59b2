package dev.onebit.bnn;

import dev.onebit.ir.DataType;

/**
 * The fixed numbers of the {@code .bnn} container, shared by the reader ({@link BnnFile}) and
 * the writer in {@code onebit-packer}. FORMAT.md at the repository root is the specification.
 */
public final class BnnLayout {
    private BnnLayout() {
    }

    /**
     * The first 8 bytes of every container: {@code 89 42 4E 4E 0D 0A 1A 0A}. The byte above 0x7F
     * catches 7-bit transfers, CR LF and the lone LF catch newline conversion, 0x1A stops
     * accidental text dumps; "BNN" names the format to anyone reading a hex dump.
     */
    public static final byte[] MAGIC = {(byte) 0x89, 'B', 'N', 'N', 0x0D, 0x0A, 0x1A, 0x0A};
    /** Major version this code writes and the newest it reads; a reader refuses a larger one. */
    public static final int VERSION_MAJOR = 1;
    /** Minor version this code writes; minor versions only add what older readers may ignore. */
    public static final int VERSION_MINOR = 0;

    /** Size of the file header; the section table starts right after it. */
    public static final int HEADER_SIZE = 64;
    /** Size of one section table entry. */
    public static final int ENTRY_SIZE = 48;
    /** Every section starts at a multiple of this, so a mapped section can be viewed as any primitive array. */
    public static final int ALIGNMENT = 64;

    /** Header field offsets (FORMAT.md §3). */
    static final int H_MAJOR = 8;
    static final int H_MINOR = 10;
    static final int H_FILE_LENGTH = 16;
    static final int H_SECTION_COUNT = 24;
    static final int H_TABLE_CRC = 28;
    static final int H_HEADER_CRC = 60;

    /** Section kind: the graph encoding ({@link GraphCodec}); exactly one, required. */
    public static final int KIND_GRAPH = 1;
    /** Section kind: the bytes of one initializer tensor, referenced from the graph by section index. */
    public static final int KIND_TENSOR = 2;
    /** Section kind: string metadata ({@link MetadataCodec}); at most one. */
    public static final int KIND_METADATA = 3;

    /** Section flag bit: a reader that does not know the section's kind must refuse the file. */
    public static final int FLAG_REQUIRED = 1;

    /** Codec: the stored bytes are the section's bytes. */
    public static final int CODEC_NONE = 0;
    /** Codec: the stored bytes are zstd frames that decompress to the section's bytes. */
    public static final int CODEC_ZSTD = 1;
    /**
     * The largest raw-to-stored ratio a zstd section may declare. It bounds what a reader
     * allocates by the size of the file it was given; a writer stores a section uncompressed
     * when compression would exceed it.
     */
    public static final int MAX_ZSTD_RATIO = 1024;
    /** The largest raw length of a zstd section: what fits in one Java array. */
    public static final long MAX_ZSTD_RAW = Integer.MAX_VALUE - 8;

    /** Element type code of {@link DataType#BIT} in the graph encoding; other types use their ONNX code. */
    public static final int TYPE_BIT = 0xB1;

    /** {@code n} rounded up to the next multiple of {@link #ALIGNMENT}. */
    public static long align(long n) {
        return Math.addExact(n, ALIGNMENT - 1) & -ALIGNMENT;
    }

    /** The code of {@code type} in the graph encoding (0 for an unknown type, null). */
    public static int typeCode(DataType type) {
        if (type == null) {
            return 0;
        }
        return type == DataType.BIT ? TYPE_BIT : type.onnxCode();
    }

    /** The type of a graph-encoding type code, or null for 0 (unknown); -1 codes never occur. */
    static DataType typeOf(int code) {
        if (code == 0) {
            return null;
        }
        if (code == TYPE_BIT) {
            return DataType.BIT;
        }
        return DataType.fromOnnx(code);
    }

    /** A short name for a codec id, for reports. */
    public static String codecName(int codec) {
        return switch (codec) {
            case CODEC_NONE -> "none";
            case CODEC_ZSTD -> "zstd";
            default -> "codec " + codec;
        };
    }
}
