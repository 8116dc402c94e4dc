#pragma once
// The static part of report.html: CSS and the JavaScript that builds the tables, sliders, zoom, crop
// grid and provenance from the embedded JSON (reports/html_report.h documents the page). Written for
// SRLab; uses only the browser's DOM and canvas APIs (no libraries, no network).
#include <string>

namespace srlab::reports {

/// The page with `title_html` (already HTML-escaped) as title and `json` (report_page_data(), with "</"
/// escaped) embedded in <script type="application/json" id="report-data">.
std::string page_html(const std::string& title_html, const std::string& json);

}  // namespace srlab::reports
