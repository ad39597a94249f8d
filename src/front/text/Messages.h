// The words kioku says to a student, in English and in Japanese, from one catalogue: the
// textbook mode's explanations (scenario `reference ... trace`, `compare`, `kioku quiz`). Each
// message is one entry of the table in Messages.cpp with both texts; {0}, {1}... stand for its
// arguments. The test MessagesTest holds every entry to having both, with the same arguments.
//
// The language is chosen once, by main(): `--lang en|ja`, or else the locale (LC_ALL,
// LC_MESSAGES, LANG: one that begins with "ja" means Japanese). English until then.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kioku::text {

enum class Lang { En, Ja };

enum class Msg {
    TraceHeader,    // the column titles of a textbook trace
    TraceOrderFifo, // the order column's title, per policy
    TraceOrderLru,
    TraceOrderOpt,
    TraceOrderClock,
    TraceOrderOther,
    Hit,
    Fault,
    FaultSwappedIn,
    WhyFifo,          // {0} victim, {1} when it came
    WhyLru,           // {0} victim, {1} when it was last used
    WhyOptNext,       // {0} victim, {1} its next use
    WhyOptNever,      // {0} victim
    WhyClock,         // {0} victim, {1} the pages the hand gave a second chance
    WhyClockNone,     // {0} victim: the hand found its bit clear at once
    WhyClockRound,    // {0} victim: every bit was set, the hand went round clearing them
    WhyOther,         // {0} victim, {1} the policy's name
    TraceLegendClock, // what the * of the CLOCK order means
    CompareHeader,    // {0}: the frame counts
    CompareAnomaly,   // {0} policy, {1} fewer frames, {2} their faults, {3} more frames, {4} their faults
    CompareLinuxLru,  // what `lru` is in the table
    QuizIntro,        // {0} policy, {1} frames, {2} the string
    QuizPrompt,       // {0} t, {1} page, {2} the frames now
    QuizRight,
    QuizWrong,     // {0} the right answer
    QuizScore,     // {0} right, {1} asked, {2} faults
    QuizAnswerHit, // how the right answer is spelled
    QuizAnswerFree,
    QuizAnswerVictim, // {0} the page
    // The demo (front/Demo.cpp): its frame, then each chapter's title and texts.
    DemoIntro,
    DemoHeading,
    DemoPause,
    DemoFailed,
    DemoList,
    DemoNoChapter,
    Demo1Title,
    Demo1Text,
    Demo2Title,
    Demo2Text,
    Demo3Title,
    Demo3Text,
    Demo3AfterMmap,
    Demo3AfterTouch,
    Demo4Title,
    Demo4Text,
    Demo4AfterRead,
    Demo4AfterWrite,
    Demo5Title,
    Demo5Text,
    Demo5Tlb,
    Demo5Passes,
    Demo6Title,
    Demo6Text,
    Demo6Faults,
    Demo6Parent,
    Demo6Pss,
    Demo7Title,
    Demo7Text,
    Demo8Title,
    Demo8Text,
    Demo8Read,
    Demo9Title,
    Demo9Text,
    Demo9Store,
    Demo10Title,
    Demo10Text,
    Demo10Vmas,
    Demo11Title,
    Demo11Text,
    Demo11Compare,
    Demo12Title,
    Demo12Text,
    Demo12Wrote,
    Demo12Back,
    Demo12Read,
    Demo13Title,
    Demo13Text,
    Demo13Grow,
    Demo13Adj,
    Demo14Title,
    Demo14Text,
    Demo14Mode2,
    Demo15Title,
    Demo15Text,
    Demo15Small,
    Demo15Huge,
    Demo16Title,
    Demo16Text,
    Demo16Compact,
    Demo17Title,
    Demo17Text,
    Demo17After,
    Demo18Title,
    Demo18Text,
    Demo18Highmem,
    Demo19Title,
    Demo19Text,
    Demo20Title,
    Demo20Text,
    Demo20Device,
    Demo20File,
    Count
};

// The language from the environment's locale.
Lang lang_from_locale();
std::optional<Lang> parse_lang(std::string_view name);
void set_lang(Lang lang);
Lang lang();

// The message in the current language (or the given one), with its arguments in place.
std::string say(Msg msg, const std::vector<std::string>& args = {});
std::string say_in(Lang lang, Msg msg, const std::vector<std::string>& args = {});

// The raw texts, for the catalogue's own test.
const char* raw(Lang lang, Msg msg);

// Display width of UTF-8 text in a terminal: East Asian wide characters count two.
size_t display_width(std::string_view text);
// text padded with spaces to `width` display columns.
std::string pad(std::string_view text, size_t width);
// The rows as a table: each line indented by two spaces, its cells two spaces apart in columns as
// wide as their widest cell (in display columns), left-aligned, or right-aligned from column
// `right_from` on; no spaces at the ends of lines.
std::string columns(const std::vector<std::vector<std::string>>& rows, size_t right_from = ~size_t{0});
// A message's parts between '|' (the column titles of a table).
std::vector<std::string> parts(const std::string& message);

} // namespace kioku::text
