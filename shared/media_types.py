"""Recognise uploaded media from their first bytes, never from a file name or a client's header.

Accepted: JPEG, PNG, WebP and GIF photos; MP4 and QuickTime (ISO base media ``ftyp`` box) and WebM videos.
HEIC/AVIF (also ``ftyp``) and Matroska (also EBML) are deliberately not accepted: the networks we post
to do not take them reliably."""

from dataclasses import dataclass

from shared.models.enums import MediaKind

# Enough bytes for every signature below (WebM's DocType sits inside the first EBML element).
SNIFF_BYTES = 64


@dataclass(frozen=True)
class MediaType:
    content_type: str
    kind: MediaKind
    extension: str


JPEG = MediaType("image/jpeg", MediaKind.photo, "jpg")
PNG = MediaType("image/png", MediaKind.photo, "png")
WEBP = MediaType("image/webp", MediaKind.photo, "webp")
GIF = MediaType("image/gif", MediaKind.photo, "gif")
MP4 = MediaType("video/mp4", MediaKind.video, "mp4")
QUICKTIME = MediaType("video/quicktime", MediaKind.video, "mov")
WEBM = MediaType("video/webm", MediaKind.video, "webm")

ACCEPTED = (JPEG, PNG, WEBP, GIF, MP4, QUICKTIME, WEBM)
ACCEPTED_DESCRIPTION = "JPEG, PNG, WebP or GIF photos; MP4, QuickTime or WebM videos"

# Major brands of the ISO base media file format that are MP4 video.
_MP4_BRANDS = {
    b"isom",
    b"iso2",
    b"iso3",
    b"iso4",
    b"iso5",
    b"iso6",
    b"mp41",
    b"mp42",
    b"avc1",
    b"M4V ",
    b"M4VP",
    b"M4VH",
    b"dash",
    b"mmp4",
    b"f4v ",
    b"MSNV",
}
_QUICKTIME_BRANDS = {b"qt  "}


def sniff(head: bytes) -> MediaType | None:
    """The media type the leading bytes ``head`` show, or None when it is not one we accept."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if len(head) >= 12 and head[4:8] == b"ftyp" and int.from_bytes(head[:4], "big") >= 12:
        brand = head[8:12]
        if brand in _QUICKTIME_BRANDS:
            return QUICKTIME
        if brand in _MP4_BRANDS:
            return MP4
        return None
    if head.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in head[:SNIFF_BYTES]:
        return WEBM
    return None
