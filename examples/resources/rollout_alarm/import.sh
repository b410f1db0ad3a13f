# Import by alarm name. The preset is recognised from the alarm's metric,
# statistic and math; an alarm that is not a preset imports as custom.
terraform import rollout_alarm.green_error_rate web-green-5xx-rate
