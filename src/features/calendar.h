// Calendar fields of an hour (docs/outputs.md): ISO weeks and US federal holidays
// with the observed-date rules of pandas' USFederalHolidayCalendar.
#pragma once

#include <cstdint>

#include "features/feature_row.h"

namespace loadcast {

// True when `epoch_day` is an (observed) US federal holiday.
bool is_us_federal_holiday(int64_t epoch_day);
int iso_week(int64_t epoch_day);
Calendar calendar_of_hour(int64_t epoch_seconds);

}  // namespace loadcast
