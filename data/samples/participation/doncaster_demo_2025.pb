META
key;value
description;Synthetic demo: Doncaster community projects 2025 (made-up data, not a real vote)
country;United Kingdom
unit;City of Doncaster Council (synthetic demo)
instance;2025
num_projects;8
num_votes;60
budget;100000
vote_type;approval
rule;greedy
date_begin;01.06.2025
date_end;30.06.2025
min_length;1
max_length;3
currency;GBP
language;en
comment;Synthetic data made for the Commissioner demo (seed 2025), every project and ballot is made up
PROJECTS
project_id;cost;votes;name;category;neighborhood;selected
1;24000;22;Youth club refurbishment;Community;Balby;1
2;8000;22;Wildflower verges;Environment;Bessacarr;1
3;35000;26;Skate park extension;Sport;Town Centre;1
4;12000;15;Library reading garden;Community;Mexborough;1
5;6000;7;Street tree planting;Environment;Thorne;0
6;18000;22;Accessible footpath at the lakes;Transport;Armthorpe;1
7;15000;15;Community kitchen equipment;Community;Hexthorpe;0
8;9500;3;Bike racks at schools;Transport;Wheatley;0
VOTES
voter_id;vote
v1;5
v2;7,3,2
v3;4,1,3
v4;1
v5;8,1
v6;4
v7;6
v8;6,1
v9;8,7
v10;7,2,6
v11;4
v12;1,5
v13;6
v14;1,5,6
v15;6,3,7
v16;3,4,7
v17;5,6,3
v18;6
v19;3,4
v20;1,3,4
v21;1,2,7
v22;4,7,1
v23;3,2
v24;3,2,1
v25;5,2,1
v26;4,7
v27;2,1
v28;2,1,3
v29;6,2
v30;6,2
v31;1,7,3
v32;6,1,3
v33;5,2
v34;1,6
v35;3,4,1
v36;8
v37;2,4
v38;4,3,2
v39;7,6
v40;2,1
v41;6,3
v42;5,4
v43;2
v44;6,3,7
v45;7
v46;6
v47;6,2,3
v48;2,1,4
v49;6,2,3
v50;2,3,6
v51;3
v52;4,6,3
v53;6
v54;3,2,1
v55;7
v56;1,2,7
v57;3,2,1
v58;3
v59;7,3,6
v60;4,3
