//! Export of signed documents: plain text, FHIR R4 document Bundle, OSC 52 clipboard.
