// `kioku quiz`: the textbook exercise. A reference string is drawn at random (from --seed, so a
// quiz can be given again), run on a fresh machine under the policy with a fixed number of frames
// (scenario/Textbook.h's replay), and the student answers each reference: h for a hit, - for a
// fault into a free frame, or the page the policy evicts. Each answer is checked against what the
// machine did, with the reason; the score and the whole trace come at the end.
#pragma once

#include <istream>
#include <ostream>

namespace kioku {

// Parses the options after `quiz` and runs it, answers from `in`. Returns 0 when the quiz ran
// (whatever the score), 2 for a usage error, 1 when the machine could not run the string.
int quiz_command(int argc, char** argv, std::istream& in, std::ostream& out, std::ostream& err);

const char* quiz_usage();

} // namespace kioku
