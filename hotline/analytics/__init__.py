"""The figures leaders run the centre by (issue 15): one definition per measure, over the platform's own tables."""
