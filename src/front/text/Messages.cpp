#include "front/text/Messages.h"

#include <array>
#include <cstdlib>

namespace kioku::text {

namespace {

struct Entry {
    Msg msg;
    const char* en;
    const char* ja;
};

// One row per message, in the order of the enum (checked below and by MessagesTest).
constexpr Entry CATALOGUE[] = {
    {Msg::TraceHeader, "t|page|frames|result|victim, and why",
     "時刻|ページ|フレーム|結果|追い出したページと理由"},
    {Msg::TraceOrderFifo, "FIFO order, next victim first", "FIFO の順（次に追い出すものが先頭）"},
    {Msg::TraceOrderLru, "LRU order, least recently used first", "LRU の順（最も昔に使われたものが先頭）"},
    {Msg::TraceOrderOpt, "OPT order, next used furthest ahead first",
     "OPT の順（次の使用が最も先のものが先頭）"},
    {Msg::TraceOrderClock, "CLOCK, from the hand (* = reference bit set)",
     "CLOCK の針の位置から（* は参照ビットが 1）"},
    {Msg::TraceOrderOther, "resident pages", "常駐しているページ"},
    {Msg::Hit, "hit", "ヒット"},
    {Msg::Fault, "fault", "フォールト"},
    {Msg::FaultSwappedIn, "fault, swapped in", "フォールト（スワップイン）"},
    {Msg::WhyFifo, "{0}: came in first (t={1})", "{0}：最初に入った（t={1}）"},
    {Msg::WhyLru, "{0}: last used longest ago (t={1})", "{0}：最後に使われたのが最も昔（t={1}）"},
    {Msg::WhyOptNext, "{0}: next used furthest ahead (t={1})", "{0}：次に使われるのが最も先（t={1}）"},
    {Msg::WhyOptNever, "{0}: never used again", "{0}：この先もう使われない"},
    {Msg::WhyClock, "{0}: its bit was clear when the hand came ({1}: bit cleared, a second chance)",
     "{0}：針が来たとき参照ビットが 0（{1} はビットを消して二度目の機会）"},
    {Msg::WhyClockNone, "{0}: its bit was clear when the hand came", "{0}：針が来たとき参照ビットが 0"},
    {Msg::WhyClockRound, "{0}: every bit was set; the hand cleared them all and came round to it",
     "{0}：参照ビットがすべて 1 だったので、針が一周して全部消し、最初のこれに戻った"},
    {Msg::WhyOther, "{0}: chosen by {1}", "{0}：{1} が選んだ"},
    {Msg::TraceLegendClock, "* = reference bit set", "* は参照ビットが 1"},
    {Msg::CompareHeader, "page faults|{0} frames", "ページフォールト|{0} フレーム"},
    {Msg::CompareAnomaly,
     "{0}: more frames, more faults (Belady's anomaly): {2} with {1} frames, {4} with {3}",
     "{0}：フレームを増やすとフォールトが増える（Belady の異常）：{1} フレームで {2} 回、{3} フレームで {4} "
     "回"},
    {Msg::QuizIntro,
     "{0} with {1} frames, all empty at first. The reference string: {2}\n"
     "For each reference answer h (a hit), - (a fault into a free frame) or the page that goes.",
     "{0}、フレーム数 {1}、最初はすべて空。参照列：{2}\n"
     "各参照に答えてください：h（ヒット）、-（空きフレームへのフォールト）、または追い出されるページ。"},
    {Msg::QuizPrompt, "t={0}, page {1}; frames: {2} > ", "t={0}、ページ {1}；フレーム：{2} > "},
    {Msg::QuizRight, "right", "正解"},
    {Msg::QuizWrong, "no: {0}", "不正解：{0}"},
    {Msg::QuizScore, "{0} of {1} right; {2} faults in all", "{1} 問中 {0} 問正解；フォールトは全部で {2} 回"},
    {Msg::QuizAnswerHit, "a hit", "ヒット"},
    {Msg::QuizAnswerFree, "a fault into a free frame", "空きフレームへのフォールト"},
    {Msg::QuizAnswerVictim, "a fault; {0} goes", "フォールト；{0} を追い出す"},
};

constexpr bool in_order()
{
    for (size_t i = 0; i < std::size(CATALOGUE); ++i)
        if (static_cast<size_t>(CATALOGUE[i].msg) != i)
            return false;
    return std::size(CATALOGUE) == static_cast<size_t>(Msg::Count);
}
static_assert(in_order(), "the catalogue has one entry per message, in the enum's order");

Lang g_lang = Lang::En; // main() sets it from --lang or the locale

} // namespace

Lang lang_from_locale()
{
    for (const char* name : {"LC_ALL", "LC_MESSAGES", "LANG"}) {
        const char* value = std::getenv(name);
        if (value && *value)
            return std::string_view(value).substr(0, 2) == "ja" ? Lang::Ja : Lang::En;
    }
    return Lang::En;
}

std::optional<Lang> parse_lang(std::string_view name)
{
    if (name == "en")
        return Lang::En;
    if (name == "ja")
        return Lang::Ja;
    return std::nullopt;
}

void set_lang(Lang lang)
{
    g_lang = lang;
}

Lang lang()
{
    return g_lang;
}

const char* raw(Lang lang, Msg msg)
{
    const Entry& e = CATALOGUE[static_cast<size_t>(msg)];
    return lang == Lang::Ja ? e.ja : e.en;
}

std::string say_in(Lang lang, Msg msg, const std::vector<std::string>& args)
{
    std::string_view text = raw(lang, msg);
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '{' && i + 2 < text.size() && text[i + 2] == '}' && text[i + 1] >= '0' &&
            text[i + 1] <= '9') {
            size_t n = static_cast<size_t>(text[i + 1] - '0');
            out += n < args.size() ? args[n] : std::string();
            i += 2;
            continue;
        }
        out += text[i];
    }
    return out;
}

std::string say(Msg msg, const std::vector<std::string>& args)
{
    return say_in(g_lang, msg, args);
}

size_t display_width(std::string_view text)
{
    size_t width = 0;
    for (size_t i = 0; i < text.size();) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        unsigned len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        char32_t cp = c < 0x80 ? c : c < 0xE0 ? c & 0x1F : c < 0xF0 ? c & 0x0F : c & 0x07;
        for (unsigned k = 1; k < len && i + k < text.size(); ++k)
            cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
        i += len;
        // Wide: CJK punctuation, kana, ideographs, Hangul, full-width forms.
        bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                    (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                    (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
                    (cp >= 0xFFE0 && cp <= 0xFFE6);
        width += wide ? 2 : 1;
    }
    return width;
}

std::string pad(std::string_view text, size_t width)
{
    std::string out(text);
    for (size_t w = display_width(text); w < width; ++w)
        out += ' ';
    return out;
}

} // namespace kioku::text
