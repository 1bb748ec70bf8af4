// The subcommands of the loadcast program. Each parses its own arguments
// (argv[0] is "loadcast <name>"), calls the library and returns an exit code;
// failures are thrown as loadcast::Failure and reported by main().
#pragma once

namespace loadcast::app {

// The whole program: argv[1] names the subcommand. Returns the exit code.
int run_program(int argc, char** argv);

int run_generate(int argc, char** argv);
int run_etl(int argc, char** argv);
int run_train(int argc, char** argv);
int run_tune(int argc, char** argv);
int run_serve(int argc, char** argv);
int run_score(int argc, char** argv);
int run_forecast(int argc, char** argv);
int run_runs(int argc, char** argv);
int run_models(int argc, char** argv);
int run_submit(int argc, char** argv);
int run_ui(int argc, char** argv);

}  // namespace loadcast::app
