// The loadcast program's entry point; app/loadcast.cpp dispatches.
#include "commands.h"

int main(int argc, char** argv) { return loadcast::app::run_program(argc, argv); }
